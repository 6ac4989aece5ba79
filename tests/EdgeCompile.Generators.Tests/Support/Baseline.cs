namespace EdgeCompile.Generators.Tests.Support;

/// <summary>Snapshot files in Baselines/ (<c>.g.cs.txt</c> so they do not compile); EDGE_UPDATE_BASELINES=1 rewrites them.</summary>
internal static class Baseline
{
    public static void AssertMatches(string fileName, string actual)
    {
        string path = Path.Combine(GeneratorHarness.TestsDirectory, "Baselines", fileName);
        if (Environment.GetEnvironmentVariable("EDGE_UPDATE_BASELINES") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), "Missing baseline " + path + ": run the tests with EDGE_UPDATE_BASELINES=1 and review the file.");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.Equal(expected, actual);
    }
}

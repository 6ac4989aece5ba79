namespace EdgeCompile.Codegen.Tests.Support;

/// <summary>Locates the repository root and the shared data beside it.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "EdgeCompile.sln"))) return d.FullName;
        // Built outside the tree (EDGE_BUILD_ROOT): the project records where it was built from.
        var recorded = typeof(TestPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "EdgeCompileRepoRoot")?.Value;
        if (recorded is not null && File.Exists(Path.Combine(recorded, "EdgeCompile.sln"))) return recorded;
        throw new InvalidOperationException("Cannot find the repository root (EdgeCompile.sln) from " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// The ONNX backend test data: $EDGE_BACKEND_TESTS, else shared/onnx-backend-tests beside the repository or beside
    /// one of its parent folders (a work tree nested one level deeper, e.g. /work/wt/x with /work/shared); null when absent.
    /// </summary>
    public static string? BackendTests { get; } = FindBackendTests();

    private static string? FindBackendTests()
    {
        if (Environment.GetEnvironmentVariable("EDGE_BACKEND_TESTS") is { Length: > 0 } env)
            return Directory.Exists(env) ? env : null;
        for (var d = new DirectoryInfo(RepoRoot).Parent; d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "shared", "onnx-backend-tests");
            if (Directory.Exists(p)) return p;
        }
        return null;
    }

    public static string DigitsModelDir => Path.Combine(RepoRoot, "Samples", "DigitRecognizer", "model");
}

/// <summary>A fact that needs the ONNX backend test data and skips, saying why, when it is absent.</summary>
public sealed class BackendDataFactAttribute : FactAttribute
{
    public BackendDataFactAttribute()
    {
        if (TestPaths.BackendTests is null)
            Skip = "shared/onnx-backend-tests is not present beside the repository or its parents, and EDGE_BACKEND_TESTS is not set (it is data outside the repo); skipping the generated-code conformance test.";
    }
}

namespace EdgeCompile.Tests.Support;

/// <summary>Locates the repository root and the shared data beside it (../shared from the root).</summary>
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
    /// The ONNX backend test data: $EDGE_BACKEND_TESTS if set, else ../shared/onnx-backend-tests beside the
    /// repository (or beside one of its parent folders, for git worktrees); null when absent.
    /// </summary>
    public static string? BackendTests
    {
        get
        {
            if (Environment.GetEnvironmentVariable("EDGE_BACKEND_TESTS") is { Length: > 0 } env && Directory.Exists(env)) return env;
            for (var d = new DirectoryInfo(RepoRoot); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "..", "shared", "onnx-backend-tests");
                if (Directory.Exists(p)) return Path.GetFullPath(p);
            }
            return null;
        }
    }

    /// <summary>The built edgec.dll (the test project builds Tasks/EdgeCompile.Cli and records its path).</summary>
    public static string Edgec { get; } =
        typeof(TestPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "EdgecPath")?.Value is { Length: > 0 } p && File.Exists(p)
            ? p : throw new InvalidOperationException("edgec.dll was not recorded by the build (EdgecPath assembly metadata).");

    public static string TestDir => Path.Combine(RepoRoot, "tests", "EdgeCompile.Tests");
}

/// <summary>A fact that needs ../shared/onnx-backend-tests and skips, saying why, when it is absent.</summary>
public sealed class BackendDataFactAttribute : FactAttribute
{
    public BackendDataFactAttribute()
    {
        if (TestPaths.BackendTests is null)
            Skip = "../shared/onnx-backend-tests is not present beside the repository (it is data outside the repo); skipping the conformance-data test.";
    }
}

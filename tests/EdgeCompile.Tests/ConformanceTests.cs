using EdgeCompile.Conformance;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests;

/// <summary>
/// Runs the ONNX backend conformance data (../shared/onnx-backend-tests, skipped when absent) and fails if
/// any case in conformance-passing.txt no longer passes. That list only grows: regenerate it with
/// `dotnet run --project tests/EdgeCompile.Conformance -c Release -- --write-passing tests/EdgeCompile.Tests/conformance-passing.txt`.
/// </summary>
public class ConformanceTests
{
    [BackendDataFact]
    public void NoPassingCaseRegresses()
    {
        var root = TestPaths.BackendTests!;
        var mustPass = File.ReadAllLines(Path.Combine(TestPaths.TestDir, "conformance-passing.txt"))
            .Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal);
        Assert.True(mustPass.Count > 1000, $"the passing list has only {mustPass.Count} entries");
        var results = ConformanceRunner.RunAll(ConformanceRunner.EnumerateCases(root), Environment.ProcessorCount);
        var regressions = results.Where(r => mustPass.Contains(r.Id) && r.Outcome != Outcome.Pass)
            .Select(r => $"{r.Id}: {r.Outcome} {r.Detail}").ToList();
        var missing = mustPass.Except(results.Select(r => r.Id)).ToList();
        Assert.Empty(regressions);
        Assert.Empty(missing);
    }

    [BackendDataFact]
    public void EveryFailureIsOnlyForUnsupportedOperatorsOrTypes()
    {
        // Issue contract: "Unsupported" is reserved for operators outside the supported set or unsupported
        // data types; every other case must pass.
        var results = ConformanceRunner.RunAll(ConformanceRunner.EnumerateCases(TestPaths.BackendTests!), Environment.ProcessorCount);
        var fails = results.Where(r => r.Outcome == Outcome.Fail).Select(r => $"{r.Id}: {r.Detail}").ToList();
        Assert.Empty(fails);
        foreach (var r in results.Where(r => r.Outcome == Outcome.Unsupported))
            Assert.True(r.Detail.StartsWith("operator: ", StringComparison.Ordinal) || r.Detail.StartsWith("data type: ", StringComparison.Ordinal), r.Id + ": " + r.Detail);
    }
}

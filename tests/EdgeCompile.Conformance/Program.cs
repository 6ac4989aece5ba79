using System.Globalization;
using EdgeCompile.Conformance;

// Usage: dotnet run --project tests/EdgeCompile.Conformance -c Release -- [suite folder] [options]
//   --filter S        only cases whose name contains S
//   --op OP           only cases whose primary operator is OP
//   --write-doc FILE  write the per-operator table (docs/conformance.md)
//   --write-passing FILE  write the sorted list of passing case ids
//   --quiet           no per-case lines for failures
//   -j N              parallelism (default: processor count)
string? root = null, filter = null, opFilter = null, doc = null, passing = null;
bool quiet = false;
int parallel = Environment.ProcessorCount;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--filter": filter = args[++i]; break;
        case "--op": opFilter = args[++i]; break;
        case "--write-doc": doc = args[++i]; break;
        case "--write-passing": passing = args[++i]; break;
        case "--quiet": quiet = true; break;
        case "-j": parallel = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: root = args[i]; break;
    }
}
root ??= FindDefaultRoot();
if (root is null || !Directory.Exists(root))
{
    Console.Error.WriteLine($"conformance: suite folder '{root ?? "../shared/onnx-backend-tests"}' not found. Pass the path to onnx-backend-tests.");
    return 2;
}

var cases = ConformanceRunner.EnumerateCases(root).Where(c => filter is null || Path.GetFileName(c.Dir).Contains(filter, StringComparison.Ordinal)).ToList();
var results = ConformanceRunner.RunAll(cases, parallel);
if (opFilter is not null) results = results.Where(r => r.PrimaryOp == opFilter).ToList();
if (!quiet)
    foreach (var r in results.Where(r => r.Outcome == Outcome.Fail))
        Console.WriteLine($"FAIL {r.Id} [{r.PrimaryOp}]: {r.Detail}");
if (doc is not null) File.WriteAllText(doc, ConformanceRunner.RenderMarkdown(results, root));
if (passing is not null) File.WriteAllLines(passing, results.Where(r => r.Outcome == Outcome.Pass).Select(r => r.Id));
var slow = results.OrderByDescending(r => r.Seconds).Take(3).ToList();
Console.WriteLine($"slowest: {string.Join(", ", slow.Select(r => $"{r.Id} {r.Seconds.ToString("F1", CultureInfo.InvariantCulture)}s"))}");
int p = results.Count(r => r.Outcome == Outcome.Pass), f = results.Count(r => r.Outcome == Outcome.Fail), u = results.Count(r => r.Outcome == Outcome.Unsupported);
Console.WriteLine($"conformance: {p} pass, {f} fail, {u} unsupported of {results.Count} cases");
return 0;

static string? FindDefaultRoot()
{
    // Default: ../shared/onnx-backend-tests relative to the repository root (walk up from the current folder).
    for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
    {
        var candidate = Path.Combine(d.FullName, "..", "shared", "onnx-backend-tests");
        if (File.Exists(Path.Combine(d.FullName, "EdgeCompile.sln")) && Directory.Exists(candidate)) return Path.GetFullPath(candidate);
    }
    return null;
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Tests.Support;
using Xunit.Abstractions;

namespace EdgeCompile.Tests.Fuzz;

/// <summary>
/// Mutation fuzzing of the front end (issue: "a model file is untrusted input"). Every input must end in
/// success or a coded EdgeException, within a per-case time limit and allocation budget.
///
/// Environment (all optional):
///   EDGE_FUZZ_ITERATIONS  cases to run (default <see cref="DefaultIterations"/>, sized for a &lt; 30 s test)
///   EDGE_FUZZ_SEED        run seed (default <see cref="DefaultSeed"/>)
///   EDGE_FUZZ_START       first iteration (to reproduce one case: EDGE_FUZZ_START=i EDGE_FUZZ_ITERATIONS=1)
///   EDGE_FUZZ_TIMEOUT_MS  per-case time limit (default 5000)
///   EDGE_FUZZ_OUT         folder for failing inputs (default: $TMP/edge-fuzz-failures)
///   EDGE_FUZZ_REPORT      file to write the outcome summary and failures to
///   EDGE_FUZZ_LOG         file to write one line per case to (iteration, outcome, mutations)
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    public const int DefaultIterations = 15000;
    public const ulong DefaultSeed = 20251123;

    private static long Env(string name, long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    [Fact]
    public void SeedModelsLoadAndRun()
    {
        // The fuzzer starts from valid models: make sure they are (else mutations explore only error paths).
        foreach (var (name, m) in FuzzHarness.BuiltSeeds())
        {
            var (outcome, code) = FuzzHarness.Run(OnnxWriter.Write(m), null);
            Assert.True(outcome == CaseOutcome.Executed, $"seed {name}: {outcome} {code}");
        }
    }

    [Fact]
    public async Task FuzzFrontEnd()
    {
        long iterations = Env("EDGE_FUZZ_ITERATIONS", DefaultIterations);
        ulong runSeed = (ulong)Env("EDGE_FUZZ_SEED", (long)DefaultSeed);
        long start = Env("EDGE_FUZZ_START", 0);
        var timeout = TimeSpan.FromMilliseconds(Env("EDGE_FUZZ_TIMEOUT_MS", 5000));
        string outDir = Environment.GetEnvironmentVariable("EDGE_FUZZ_OUT") ?? Path.Combine(Path.GetTempPath(), "edge-fuzz-failures");

        var seeds = FuzzHarness.Seeds();
        var valid = seeds.Select((s, i) => (s, i)).Where(p => !p.s.Name.StartsWith("bad/", StringComparison.Ordinal)).Select(p => p.i).ToList();
        var fuzzer = new MutationFuzzer(seeds.Select(s => s.Bytes).ToList(), runSeed, valid);

        // A private folder for the file-path cases, with data files that external-data seeds name.
        string work = Directory.CreateTempSubdirectory("edge-fuzz-").FullName;
        File.WriteAllBytes(Path.Combine(work, "no_such_file.bin"), new byte[16]);
        File.WriteAllBytes(Path.Combine(work, "short.bin"), new byte[8]);
        string modelPath = Path.Combine(work, "case.onnx");

        var outcomes = new Dictionary<string, long>(StringComparer.Ordinal);
        var failures = new List<string>();
        var signatures = new HashSet<string>(StringComparer.Ordinal);
        // EDGE_FUZZ_LOG=file: one line per case (iteration, outcome, mutations), for tuning the mutators.
        using var verbose = Environment.GetEnvironmentVariable("EDGE_FUZZ_LOG") is { Length: > 0 } log ? new StreamWriter(log) : null;
        var clock = Stopwatch.StartNew();
        long done = 0;
        try
        {
            for (long it = start; it < start + iterations; it++)
            {
                var (bytes, description) = fuzzer.Generate(it);
                // One case in eight goes through a real file (memory mapping, external data, file names in errors).
                string? path = null;
                if (MutationFuzzer.SplitMix((ulong)it ^ runSeed) % 8 == 0) { File.WriteAllBytes(modelPath, bytes); path = modelPath; }

                var task = Task.Factory.StartNew(() => FuzzHarness.Run(bytes, path), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                string repro = $"EDGE_FUZZ_SEED={runSeed} EDGE_FUZZ_START={it} EDGE_FUZZ_ITERATIONS=1 ({description}{(path is null ? "" : ", via file")})";
                bool finished = await Task.WhenAny(task, Task.Delay(timeout)) == task;
                done++;
                if (!finished)
                {
                    // The runaway case keeps its thread; stop the campaign here.
                    string file = Save(outDir, runSeed, it, bytes);
                    failures.Add($"TIMEOUT after {timeout.TotalSeconds:0.#} s: {repro}, input saved to {file}");
                    break;
                }
                (CaseOutcome, string?) result;
                try { result = await task; }
                catch (Exception e)
                {
                    string sig = Signature(e);
                    Count(outcomes, "FAIL " + e.GetType().Name);
                    if (signatures.Add(sig))
                    {
                        string file = Save(outDir, runSeed, it, bytes);
                        failures.Add($"{sig}: {e.Message}\n    {repro}\n    input saved to {file}\n{Indent(e.StackTrace)}");
                    }
                    if (signatures.Count >= 25) break;
                    continue;
                }
                var (outcome, code) = result;
                verbose?.WriteLine($"{it} {outcome} {code} {description}");
                Count(outcomes, outcome == CaseOutcome.Rejected ? "rejected " + code : outcome.ToString().ToLowerInvariant());
            }
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{done} cases from {seeds.Count} seeds in {clock.Elapsed.TotalSeconds:0.0} s (seed {runSeed}, start {start})");
        foreach (var (k, v) in outcomes.OrderBy(p => p.Key, StringComparer.Ordinal)) report.AppendLine(CultureInfo.InvariantCulture, $"  {k,-22} {v}");
        output.WriteLine(report.ToString());
        if (Environment.GetEnvironmentVariable("EDGE_FUZZ_REPORT") is { Length: > 0 } reportFile)
            File.WriteAllText(reportFile, report + string.Join("\n\n", failures));
        Assert.True(failures.Count == 0, $"{failures.Count} distinct failure(s):\n\n" + string.Join("\n\n", failures) + "\n\n" + report);
    }

    public static TheoryData<string> Crashers()
    {
        var data = new TheoryData<string>();
        var dir = Path.Combine(TestPaths.TestDir, "Corpus", "crashers");
        if (Directory.Exists(dir))
            foreach (var f in Directory.GetFiles(dir, "*.onnx").OrderBy(f => f, StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        if (data.Count == 0) data.Add(""); // xunit needs one row; "" means "no crashers yet"
        return data;
    }

    /// <summary>Every input the fuzzer ever broke the front end with: now success or a coded error, via file and via memory.</summary>
    [Theory]
    [MemberData(nameof(Crashers))]
    public async Task FuzzCrasherRegression(string file)
    {
        if (file.Length == 0) return;
        var path = Path.Combine(TestPaths.TestDir, "Corpus", "crashers", file);
        var bytes = File.ReadAllBytes(path);
        foreach (var viaFile in new[] { false, true })
        {
            var task = Task.Factory.StartNew(() => FuzzHarness.Run(bytes, viaFile ? path : null), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Assert.True(await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))) == task, $"{file} did not finish in 10 s");
            var (outcome, code) = await task;
            output.WriteLine($"{file} ({(viaFile ? "file" : "memory")}): {outcome} {code}");
        }
    }

    private static void Count(Dictionary<string, long> d, string key) => d[key] = d.GetValueOrDefault(key) + 1;

    /// <summary>Exception type plus the innermost compiler frame: one entry per distinct bug, not per input.</summary>
    private static string Signature(Exception e)
    {
        var frame = e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("EdgeCompile.Compiler", StringComparison.Ordinal))
            ?? e.StackTrace?.Split('\n').FirstOrDefault()?.Trim() ?? "?";
        int paren = frame.IndexOf('(');
        if (paren > 0) frame = frame[..paren];
        return $"{e.GetType().Name} {frame}";
    }

    private static string Save(string dir, ulong seed, long it, byte[] bytes)
    {
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"fuzz-{seed}-{it}.onnx");
        File.WriteAllBytes(file, bytes);
        return file;
    }

    private static string Indent(string? s) => string.Join("\n", (s ?? "").Split('\n').Take(12).Select(l => "      " + l.Trim()));
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// The <c>report</c> and <c>quick</c> commands: runs ModelBenchmarks and KernelBenchmarks with BenchmarkDotNet,
/// measures each engine's process peak memory in a fresh child process (<c>measure-peak</c>), and (report) rewrites
/// the generated sections of docs/benchmarks.md and README.md between their markers.
/// </summary>
public static class SuiteReport
{
    public const string PeakCommand = "measure-peak";
    private const string PeakPrefix = "peak-bytes: ", AllocPrefix = "thread-allocated-per-call: ";
    private const string EdgeMethod = nameof(ModelBenchmarks.EdgeCompileFloat), OrtMethod = nameof(ModelBenchmarks.OrtFloat);
    private const string Int8Method = nameof(ModelBenchmarks.EdgeCompileInt8), QdqMethod = nameof(ModelBenchmarks.OrtQdq);
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Report(string[] args) => RunSuite(args, quick: false);
    public static int Quick(string[] args) => RunSuite(args, quick: true);

    private static int RunSuite(string[] args, bool quick)
    {
        bool write = !quick;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--models" when i + 1 < args.Length:
                    ModelBenchmarks.Selection = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries);
                    foreach (var m in ModelBenchmarks.Selection) Catalog.Get(m);
                    break;
                case "--no-write": write = false; break;
                default: throw new UsageException($"unknown option '{args[i]}'.");
            }
        }
        var models = ModelBenchmarks.Models.Select(Catalog.Get).ToArray();
        var machine = Machine.Read();
        string loadBefore = Machine.LoadAverage();
        Console.WriteLine($"machine: {machine.Cpu}, {machine.Cores} cores, {machine.ClockMHz:F0} MHz, peak {machine.PeakGflops:F1} GFLOPS/core; load average {loadBefore}");

        // 1. The engines agree (same file, same input): otherwise the comparison means nothing.
        foreach (var m in models)
        {
            var input = Catalog.Input(m.InputLength);
            var edge = new float[m.OutputLength];
            m.Create().Run(input, edge);
            using var ort = new OrtRunner(m.OnnxPath, input, m.OutputLength);
            ort.Run();
            double maxAbs = ort.Output.Max(MathF.Abs), maxDiff = 0;
            for (int i = 0; i < edge.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(edge[i] - ort.Output[i]));
            double rel = maxDiff / Math.Max(maxAbs, 1e-6);
            Console.WriteLine(string.Create(Inv, $"check {m.Name}: max |EdgeCompile - ORT| = {maxDiff:G3} ({rel:G3} of max |output|)"));
            if (!(rel < 1e-3)) { Console.Error.WriteLine($"{m.Name}: EdgeCompile and ONNX Runtime disagree"); return 1; }

            // The int8 variant against ONNX Runtime on its QDQ export: rounding differs (one output step for static int8;
            // Int8Dynamic's run-time activation quantization is not in the export), so this only catches a broken variant.
            var q = new float[m.OutputLength];
            m.CreateInt8().Run(input, q);
            using var qdq = new OrtRunner(m.Int8Onnx, input, m.OutputLength);
            qdq.Run();
            double qMax = qdq.Output.Max(MathF.Abs), qDiff = 0, fDiff = 0;
            for (int i = 0; i < q.Length; i++) { qDiff = Math.Max(qDiff, Math.Abs(q[i] - qdq.Output[i])); fDiff = Math.Max(fDiff, Math.Abs(q[i] - ort.Output[i])); }
            Console.WriteLine(string.Create(Inv, $"check {m.Name} {m.Int8Mode}: max |EdgeCompile int8 - ORT on the QDQ export| = {qDiff:G3} ({qDiff / Math.Max(qMax, 1e-6):G3} of max |output|); vs float {fDiff:G3} ({fDiff / Math.Max(maxAbs, 1e-6):G3})"));
            if (!(qDiff / Math.Max(qMax, 1e-6) < 0.25)) { Console.Error.WriteLine($"{m.Name}: the int8 variant and ONNX Runtime on its QDQ export disagree"); return 1; }
        }

        // 2. BenchmarkDotNet, in process: the default toolchain would generate, restore and build a separate project
        //    per run (re-running this project's model generation and compilation); in-process uses this Release build.
        var toolchain = InProcessEmitToolchain.Instance;
        var job = quick
            ? Job.Dry.WithToolchain(toolchain)                              // smoke: 1 cold iteration, no statistics
            : Job.Default.WithToolchain(toolchain).WithWarmupCount(5).WithIterationCount(15)
                .WithIterationTime(TimeInterval.FromMilliseconds(250));
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "edgecompile-benchmarks"));
        var summaries = new[] { BenchmarkRunner.Run<ModelBenchmarks>(config), BenchmarkRunner.Run<KernelBenchmarks>(config) };
        if (summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Length == 0 || s.Reports.Any(r => !r.Success)))
        {
            Console.Error.WriteLine("a benchmark failed (see above)");
            return 1;
        }

        // 3. Process peak memory: one fresh process per model and engine.
        var rows = new List<Row>();
        foreach (var m in models)
        {
            var edge = Find(summaries[0], m.Name, EdgeMethod);
            var ort = Find(summaries[0], m.Name, OrtMethod);
            var (edgePeak, edgeThread) = MeasurePeak(m.Name, "edgecompile", quick ? 1 : 20);
            var (ortPeak, _) = MeasurePeak(m.Name, "ort", quick ? 1 : 20);
            rows.Add(new Row(m, Median(edge), Median(ort), Allocated(edge), Allocated(ort), edgeThread, edgePeak, ortPeak,
                Median(Find(summaries[0], m.Name, Int8Method)), Median(Find(summaries[0], m.Name, QdqMethod)), Allocated(Find(summaries[0], m.Name, Int8Method))));
        }
        var kernels = summaries[1].Reports.Select(r => (r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''), Median(r),
            r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(KernelBenchmarks.Gemm512) ? KernelBenchmarks.GemmFlops : KernelBenchmarks.ConvFlops)).ToArray();
        string loadAfter = Machine.LoadAverage();

        string modelsTable = ModelsTable(rows);
        string kernelsTable = KernelsTable(kernels, machine);
        Console.WriteLine();
        Console.WriteLine(modelsTable);
        Console.WriteLine(kernelsTable);
        Console.WriteLine($"load average before: {loadBefore}; after: {loadAfter}");
        if (quick)
        {
            Console.WriteLine($"quick: {rows.Count} models x 4 variants (EdgeCompile float/int8, ORT float/QDQ) and {kernels.Length} kernels ran (smoke only; timings of a quick run mean nothing)");
            return 0;
        }
        if (write)
        {
            string date = DateTime.Now.ToString("yyyy-MM-dd", Inv);
            string env = Environment(machine, date, loadBefore, loadAfter);
            string root = Catalog.Metadata("EdgeCompileRepoRoot");
            Rewrite(Path.Combine(root, "docs", "benchmarks.md"), "suite", env + "\n" + modelsTable + "\n" + kernelsTable);
            Rewrite(Path.Combine(root, "README.md"), "suite", env + "\n" + modelsTable);
            Console.WriteLine("rewrote the generated sections of docs/benchmarks.md and README.md");
        }
        return 0;
    }

    private sealed record Row(BenchModel Model, double EdgeNs, double OrtNs, long? EdgeAlloc, long? OrtAlloc, long? EdgeThreadAlloc, long EdgePeak, long OrtPeak,
        double Int8Ns, double QdqNs, long? Int8Alloc);

    private static BenchmarkReport Find(Summary s, string model, string engine) =>
        s.Reports.Single(r => (string)r.BenchmarkCase.Parameters["Model"] == model && r.BenchmarkCase.Descriptor.WorkloadMethod.Name == engine);

    private static double Median(BenchmarkReport r) => r.ResultStatistics?.Median ?? double.NaN;
    private static long? Allocated(BenchmarkReport r) => r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase);

    private static string ModelsTable(List<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Model | Params | EdgeCompile float (median) | ORT float (median) | EdgeCompile / ORT | Allocated per call: EdgeCompile / ORT (EdgeCompile, calling thread only) | Weight bytes | Arena bytes | Process peak: EdgeCompile / ORT |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(string.Create(Inv, $"| {r.Model.Description} | {Count(r.Model.Parameters)} | {Time(r.EdgeNs)} | {Time(r.OrtNs)} | **{r.EdgeNs / r.OrtNs:F2}x** | {Bytes(r.EdgeAlloc)} / {Bytes(r.OrtAlloc)} ({Bytes(r.EdgeThreadAlloc)}) | {Size(r.Model.WeightBytes)} | {Size(r.Model.ArenaBytes)} | {Size(r.EdgePeak)} / {Size(r.OrtPeak)} |"));
        sb.AppendLine();
        sb.AppendLine("| Model | Int8 mode | EdgeCompile int8 (median) | ORT on our QDQ export (median) | int8 / ORT QDQ | int8 / ORT float | int8 / EdgeCompile float | Allocated per call | Weight bytes: int8 / float |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(string.Create(Inv, $"| {r.Model.Description} | {r.Model.Int8Mode} | {Time(r.Int8Ns)} | {Time(r.QdqNs)} | **{r.Int8Ns / r.QdqNs:F2}x** | {r.Int8Ns / r.OrtNs:F2}x | {r.Int8Ns / r.EdgeNs:F2}x | {Bytes(r.Int8Alloc)} | {Size(r.Model.Int8WeightBytes)} / {Size(r.Model.WeightBytes)} ({(double)r.Model.Int8WeightBytes / r.Model.WeightBytes:F3}x) |"));
        return sb.ToString();
    }

    private static string KernelsTable((string Name, double Ns, double Flops)[] kernels, Machine machine)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Kernel (float32, single thread) | Median | GFLOPS | % of peak |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var (name, ns, flops) in kernels)
        {
            double gflops = flops / ns;
            sb.AppendLine(string.Create(Inv, $"| `{name}` | {Time(ns)} | {gflops:F1} | {100 * gflops / machine.PeakGflops:F0}% |"));
        }
        sb.AppendLine(string.Create(Inv, $"| theoretical peak: 2 FMA ports x 8 float lanes x 2 flops x {machine.ClockMHz / 1000:F2} GHz (/proc/cpuinfo) | | {machine.PeakGflops:F1} | 100% |"));
        double measured = Machine.MeasureClockMHz();
        sb.AppendLine(string.Create(Inv, $"| same at the measured clock ({measured / 1000:F2} GHz: dependent integer adds, turbo included) | | {32 * measured / 1000:F1} | {100 * 32 * measured / 1000 / machine.PeakGflops:F0}% |"));
        if (machine.Isa.Contains("AVX512F"))
            sb.AppendLine(string.Create(Inv, $"| AVX-512 (16 lanes) at the measured clock, if both FMA ports are 512 bits wide (what ONNX Runtime's MLAS kernels use here) | | {64 * measured / 1000:F1} | {100 * 64 * measured / 1000 / machine.PeakGflops:F0}% |"));
        // INT8: int8 GEMM / conv (GOPS, vs the VPDPBUSD or VPMADDUBSW peak) join here with the quantization work.
        return sb.ToString();
    }

    private static string Environment(Machine m, string date, string loadBefore, string loadAfter) =>
        $"Machine: {m.Cpu}, {m.Cores} cores, {m.ClockMHz:F0} MHz (/proc/cpuinfo), {m.Isa}; {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, " +
        $"ONNX Runtime 1.31.1 (CPU), BenchmarkDotNet 0.15.8 (in-process). Single thread, batch 1. Date: {date}. " +
        $"Load average (1, 5, 15 min) before / after the run: {loadBefore} / {loadAfter}.\n\n" +
        "Command: `dotnet run -c Release --project tests/EdgeCompile.Benchmarks -- report`\n";

    private static void Rewrite(string path, string section, string content) => RewriteSection(path, section, content, "report");

    /// <summary>Replaces the text between a section's markers (written by <paramref name="command"/>).</summary>
    public static void RewriteSection(string path, string section, string content, string command)
    {
        string begin = $"<!-- benchmark-{section}:begin (generated by `dotnet run -c Release --project tests/EdgeCompile.Benchmarks -- {command}`) -->";
        string end = $"<!-- benchmark-{section}:end -->";
        string text = File.ReadAllText(path);
        int b = text.IndexOf(begin, StringComparison.Ordinal), e = text.IndexOf(end, StringComparison.Ordinal);
        if (b < 0 || e < b) throw new InvalidOperationException($"{path}: markers {begin} ... {end} not found");
        text = text[..(b + begin.Length)] + "\n" + content.TrimEnd() + "\n" + text[e..];
        File.WriteAllText(path, text);
    }

    private static string Time(double ns) => double.IsNaN(ns) ? "n/a" : ns switch
    {
        < 1e3 => string.Create(Inv, $"{ns:F0} ns"),
        < 1e6 => string.Create(Inv, $"{ns / 1e3:F2} µs"),
        _ => string.Create(Inv, $"{ns / 1e6:F2} ms"),
    };

    private static string Bytes(long? b) => b is null ? "n/a" : string.Create(Inv, $"{b} B");
    private static string Count(long n) => n >= 1_000_000 ? string.Create(Inv, $"{n / 1e6:F1}M") : string.Create(Inv, $"{n / 1e3:F1}k");
    private static string Size(long bytes) => bytes >= 1 << 20 ? string.Create(Inv, $"{bytes / 1048576.0:F1} MiB") : string.Create(Inv, $"{bytes / 1024.0:F1} KiB");

    // ---------------------------------------------------------------- process peak memory

    private static (long Peak, long? ThreadAllocated) MeasurePeak(string model, string engine, int runs)
    {
        string exe = System.Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the current executable.");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(typeof(SuiteReport).Assembly.Location);
        foreach (var a in new[] { PeakCommand, model, engine, "--runs", runs.ToString(Inv) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the child process.");
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith(PeakPrefix, StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null) throw new InvalidOperationException($"{PeakCommand} {model} {engine} failed ({p.ExitCode}):\n{output}");
        var alloc = output.Split('\n').FirstOrDefault(l => l.StartsWith(AllocPrefix, StringComparison.Ordinal));
        long? threadAllocated = alloc is null ? null : long.Parse(alloc[AllocPrefix.Length..].Trim(), Inv);
        return (long.Parse(line[PeakPrefix.Length..], Inv), threadAllocated);
    }

    /// <summary>The child: create one engine for one model, run it, print the process's peak RSS (VmHWM).</summary>
    public static int MeasurePeakChild(string[] args)
    {
        if (args.Length != 4 || args[2] != "--runs" || args[1] is not ("edgecompile" or "ort"))
            throw new UsageException("expected <model> edgecompile|ort --runs N.");
        var m = Catalog.Get(args[0]);
        int runs = int.Parse(args[3], Inv);
        var input = Catalog.Input(m.InputLength);
        if (args[1] == "edgecompile")
        {
            var output = new float[m.OutputLength];
            var model = m.Create();
            for (int i = 0; i < runs; i++) model.Run(input, output);
            // Cross-check of MemoryDiagnoser (which counts every thread, JIT tiering included): this thread only.
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < runs; i++) model.Run(input, output);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Console.WriteLine($"{AllocPrefix}{allocated / runs}");
        }
        else
        {
            using var ort = new OrtRunner(m.OnnxPath, input, m.OutputLength);
            for (int i = 0; i < runs; i++) ort.Run();
        }
        Console.WriteLine(PeakPrefix + ProcStatus.Read().VmHwm.ToString(Inv));
        return 0;
    }
}

/// <summary>This CPU, from /proc/cpuinfo: the single-core float32 peak is 2 FMA ports x 8 lanes (AVX2) x 2 flops x clock.</summary>
public sealed record Machine(string Cpu, int Cores, double ClockMHz, string Isa)
{
    public double PeakGflops => 2 * 8 * 2 * ClockMHz / 1000;

    public static Machine Read()
    {
        string cpu = "unknown CPU", flags = "";
        double mhz = 0;
        if (File.Exists("/proc/cpuinfo"))
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                if (key == "model name") cpu = value;
                else if (key == "cpu MHz" && mhz == 0) mhz = double.Parse(value, CultureInfo.InvariantCulture);
                else if (key == "flags") flags = value;
            }
        // A nominal clock in the model name ("... @ 2.80GHz") is preferred over the instantaneous "cpu MHz".
        var nominal = Regex.Match(cpu, @"@\s*([0-9.]+)\s*GHz");
        if (nominal.Success) mhz = double.Parse(nominal.Groups[1].Value, CultureInfo.InvariantCulture) * 1000;
        var f = flags.Split(' ');
        string isa = string.Join("+", new[] { "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni" }.Where(f.Contains).Select(s => s.ToUpperInvariant()));
        return new(cpu, System.Environment.ProcessorCount, mhz, isa);
    }

    /// <summary>
    /// The clock the core actually runs at (turbo included; /proc/cpuinfo in a VM shows the nominal one): times a chain
    /// of dependent integer adds (1 cycle each on x86-64) and keeps the fastest of several tries.
    /// </summary>
    public static double MeasureClockMHz()
    {
        double best = 0;
        for (int t = 0; t < 20; t++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            long x = AddChain(2_000_000, t);
            double s = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (x == 42) Console.Write("");  // keeps the result alive
            best = Math.Max(best, 2_000_000 * 16.0 / s / 1e6);
        }
        return best;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long AddChain(int iterations, long y)
    {
        long x = 0;
        for (int i = 0; i < iterations; i++)
        {
            x += y; x ^= i; x += y; x ^= i; x += y; x ^= i; x += y; x ^= i;
            x += y; x ^= i; x += y; x ^= i; x += y; x ^= i; x += y; x ^= i;
        }
        return x;
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

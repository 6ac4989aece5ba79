using System.Runtime.Intrinsics;
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
            var (_, int8Thread) = MeasurePeak(m.Name, "edgecompile-int8", quick ? 1 : 20);
            rows.Add(new Row(m, Median(edge), Median(ort), Allocated(edge), Allocated(ort), edgeThread, edgePeak, ortPeak,
                Median(Find(summaries[0], m.Name, Int8Method)), Median(Find(summaries[0], m.Name, QdqMethod)), Allocated(Find(summaries[0], m.Name, Int8Method)), int8Thread));
        }
        var kernels = KernelRows(summaries[1]);

        // 4. The cross-check: the same four engines in thread CPU time, interleaved (time spent descheduled on a shared
        //    machine is not counted). Skipped by quick, whose single cold iteration times nothing.
        string cpuTable = quick ? "" : CpuTable(models);
        string loadAfter = Machine.LoadAverage();

        string modelsTable = ModelsTable(rows) + cpuTable;
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

    private static string CpuTable(BenchModel[] models) =>
        "\nThe same engines in the calling thread's CPU time (medians of 15 interleaved rounds of about 50 ms each, after the " +
        "BenchmarkDotNet run; `-- cpu-ratio` alone): time spent descheduled on a loaded machine does not count here, so when " +
        "the two tables disagree on a ratio, this one is the per-call work.\n\n" +
        CpuRatio.Table([.. models.Select(m => CpuRatio.Measure(m))]);

    private sealed record Row(BenchModel Model, double EdgeNs, double OrtNs, long? EdgeAlloc, long? OrtAlloc, long? EdgeThreadAlloc, long EdgePeak, long OrtPeak,
        double Int8Ns, double QdqNs, long? Int8Alloc, long? Int8ThreadAlloc);

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
        sb.AppendLine("| Model | Int8 mode | EdgeCompile int8 (median) | ORT on our QDQ export (median) | int8 / ORT QDQ | int8 / ORT float | int8 / EdgeCompile float | Allocated per call (calling thread only) | Weight bytes: int8 / float |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(string.Create(Inv, $"| {r.Model.Description} | {r.Model.Int8Mode} | {Time(r.Int8Ns)} | {Time(r.QdqNs)} | **{r.Int8Ns / r.QdqNs:F2}x** | {r.Int8Ns / r.OrtNs:F2}x | {r.Int8Ns / r.EdgeNs:F2}x | {Bytes(r.Int8Alloc)} ({Bytes(r.Int8ThreadAlloc)}) | {Size(r.Model.Int8WeightBytes)} / {Size(r.Model.WeightBytes)} ({(double)r.Model.Int8WeightBytes / r.Model.WeightBytes:F3}x) |"));
        return sb.ToString();
    }

    private static (string Name, double Ns, double Flops, bool Int8)[] KernelRows(Summary s) => [.. s.Reports.Select(r =>
    {
        string method = r.BenchmarkCase.Descriptor.WorkloadMethod.Name;
        return (r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''), Median(r), KernelBenchmarks.Ops(method), method.StartsWith('Q'));
    })];

    /// <summary>The <c>kernels</c> command: only the kernel benchmarks (float and int8), printed as the report's kernel table; writes nothing.</summary>
    public static int Kernels(string[] args)
    {
        bool quick = false;
        string? filter = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--quick") quick = true;
            else if (args[i] == "--filter" && i + 1 < args.Length) filter = args[++i];
            else throw new UsageException($"unknown option '{args[i]}'.");
        }
        var machine = Machine.Read();
        var job = quick ? Job.Dry.WithToolchain(InProcessEmitToolchain.Instance)
            : Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(9).WithIterationTime(TimeInterval.FromMilliseconds(200));
        var config = ManualConfig.CreateEmpty().AddJob(job).AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance).AddLogger(ConsoleLogger.Default)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "edgecompile-benchmarks"));
        if (filter is not null) config = config.AddFilter(new BenchmarkDotNet.Filters.GlobFilter([filter]));
        var summary = BenchmarkRunner.Run<KernelBenchmarks>(config);
        if (summary.Reports.Length == 0 || summary.Reports.Any(r => !r.Success)) { Console.Error.WriteLine("a benchmark failed (see above)"); return 1; }
        Console.WriteLine();
        Console.WriteLine(KernelsTable(KernelRows(summary), machine));
        return 0;
    }

    private static string KernelsTable((string Name, double Ns, double Flops, bool Int8)[] kernels, Machine machine)
    {
        var sb = new StringBuilder();
        // 100% is the float peak at the clock the core really runs (measured: turbo included); the nominal /proc/cpuinfo
        // clock understates it on this VM, which put kernels above "100%".
        double measured = Machine.MeasureClockMHz();
        double floatPeak = 32 * measured / 1000;
        sb.AppendLine("| Kernel (float32, single thread) | Median | GFLOPS | % of peak (measured clock) |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var (name, ns, flops, _) in kernels.Where(k => !k.Int8))
        {
            double gflops = flops / ns;
            sb.AppendLine(string.Create(Inv, $"| `{name}` | {Time(ns)} | {gflops:F1} | {100 * gflops / floatPeak:F0}% |"));
        }
        sb.AppendLine(string.Create(Inv, $"| peak: 2 FMA ports x 8 float lanes x 2 flops x {measured / 1000:F2} GHz (the measured clock: dependent integer adds, turbo included) | | {floatPeak:F1} | 100% |"));
        sb.AppendLine(string.Create(Inv, $"| for reference: the same at the nominal {machine.ClockMHz / 1000:F2} GHz of /proc/cpuinfo | | {machine.PeakGflops:F1} | {100 * machine.PeakGflops / floatPeak:F0}% |"));
        if (machine.Isa.Contains("AVX512F"))
            sb.AppendLine(string.Create(Inv, $"| for reference: AVX-512 (16 lanes) at the measured clock if both FMA ports were 512 bits wide (not reached on Zen 4, which splits a 512-bit FMA into two 256-bit halves: its 512-bit peak is the 100% row) | | {64 * measured / 1000:F1} | {100 * 64 * measured / 1000 / floatPeak:F0}% |"));
        var int8 = kernels.Where(k => k.Int8).ToArray();
        if (int8.Length == 0) return sb.ToString();
        // The int8 kernels' AVX2 path multiplies with vpmaddwd (int16 pairs summed into int32: 16 multiply-adds per
        // 256-bit instruction); its issue rate is measured here (independent chains), not taken from a table.
        double rate = Machine.MeasureMaddPerCycle(measured);
        double peak = 2 * 16 * rate * measured / 1000;
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv, $"| Kernel (int8, single thread, AVX2 path) | Median | GOPS | % of int8 peak ({peak:F0} GOPS) |"));
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var (name, ns, ops, _) in int8)
            sb.AppendLine(string.Create(Inv, $"| `{name}` | {Time(ns)} | {ops / ns:F1} | {100 * ops / ns / peak:F0}% |"));
        sb.AppendLine(string.Create(Inv, $"| int8 peak: vpmaddwd (16 multiply-adds per 256-bit instruction) x {rate * measured / 1000:F2} G instructions/s (measured: 12 independent chains, best of 20; {rate:F2} per cycle at the measured clock) x 2 ops | | {peak:F1} | 100% |"));
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            double rate512 = Machine.MeasureMadd512PerCycle(measured);
            sb.AppendLine(string.Create(Inv, $"| for reference: vpmaddwd zmm (AVX-512BW, 32 multiply-adds) at {rate512 * measured / 1000:F2} G instructions/s (measured the same way): {32 * rate512 / (16 * rate):F2}x the ymm peak, so no AVX-512 path | | {2 * 32 * rate512 * measured / 1000:F1} | {100 * 32 * rate512 / (16 * rate):F0}% |"));
        }
        if (machine.Isa.Contains("AVX512F"))
            sb.AppendLine(string.Create(Inv, $"| for reference: a u8 x s8 dot-product instruction (VPDPBUSD, 32 multiply-adds per 256 bits) at the same issue rate would double that; .NET 10 exposes it only as AvxVnni (VEX), absent on this CPU | | {2 * peak:F1} | 200% |"));
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
        if (args.Length != 4 || args[2] != "--runs" || args[1] is not ("edgecompile" or "edgecompile-int8" or "ort"))
            throw new UsageException("expected <model> edgecompile|edgecompile-int8|ort --runs N.");
        var m = Catalog.Get(args[0]);
        int runs = int.Parse(args[3], Inv);
        var input = Catalog.Input(m.InputLength);
        if (args[1] is "edgecompile" or "edgecompile-int8")
        {
            var output = new float[m.OutputLength];
            var model = args[1] == "edgecompile" ? m.Create() : m.CreateInt8();
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

    /// <summary>
    /// vpmaddwd (ymm) instructions issued per cycle at <paramref name="clockMHz"/>: 12 independent dependency chains (more
    /// than latency x throughput), best of several tries. 0 without AVX2.
    /// </summary>
    public static double MeasureMaddPerCycle(double clockMHz)
    {
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported) return 0;
        double best = 0;
        const int iterations = 1_000_000;
        for (int t = 0; t < 20; t++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            int x = MaddChains(iterations, t);
            double s = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (x == 42) Console.Write("");
            best = Math.Max(best, 12.0 * iterations / (s * clockMHz * 1e6));
        }
        return best;
    }

    /// <summary>As <see cref="MeasureMaddPerCycle"/> for the 512-bit form (AVX-512BW); 0 without it.</summary>
    public static double MeasureMadd512PerCycle(double clockMHz)
    {
        if (!System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) return 0;
        double best = 0;
        const int iterations = 1_000_000;
        for (int t = 0; t < 20; t++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            int x = MaddChains512(iterations, t);
            double s = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (x == 42) Console.Write("");
            best = Math.Max(best, 12.0 * iterations / (s * clockMHz * 1e6));
        }
        return best;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int MaddChains512(int iterations, int seed)
    {
        var b = System.Runtime.Intrinsics.Vector512.Create((short)(seed | 1));
        var a0 = System.Runtime.Intrinsics.Vector512.Create(seed); var a1 = a0 + a0; var a2 = a1 + a0; var a3 = a2 + a0; var a4 = a3 + a0; var a5 = a4 + a0;
        var a6 = a5 + a0; var a7 = a6 + a0; var a8 = a7 + a0; var a9 = a8 + a0; var a10 = a9 + a0; var a11 = a10 + a0;
        for (int i = 0; i < iterations; i++)
        {
            a0 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a0.AsInt16(), b); a1 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a1.AsInt16(), b);
            a2 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a2.AsInt16(), b); a3 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a3.AsInt16(), b);
            a4 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a4.AsInt16(), b); a5 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a5.AsInt16(), b);
            a6 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a6.AsInt16(), b); a7 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a7.AsInt16(), b);
            a8 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a8.AsInt16(), b); a9 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a9.AsInt16(), b);
            a10 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a10.AsInt16(), b); a11 = System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(a11.AsInt16(), b);
        }
        var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return System.Runtime.Intrinsics.Vector512.Sum(sum);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int MaddChains(int iterations, int seed)
    {
        var b = System.Runtime.Intrinsics.Vector256.Create((short)(seed | 1));
        var a0 = System.Runtime.Intrinsics.Vector256.Create(seed); var a1 = a0 + a0; var a2 = a1 + a0; var a3 = a2 + a0; var a4 = a3 + a0; var a5 = a4 + a0;
        var a6 = a5 + a0; var a7 = a6 + a0; var a8 = a7 + a0; var a9 = a8 + a0; var a10 = a9 + a0; var a11 = a10 + a0;
        for (int i = 0; i < iterations; i++)
        {
            a0 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a0.AsInt16(), b); a1 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a1.AsInt16(), b);
            a2 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a2.AsInt16(), b); a3 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a3.AsInt16(), b);
            a4 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a4.AsInt16(), b); a5 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a5.AsInt16(), b);
            a6 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a6.AsInt16(), b); a7 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a7.AsInt16(), b);
            a8 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a8.AsInt16(), b); a9 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a9.AsInt16(), b);
            a10 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a10.AsInt16(), b); a11 = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(a11.AsInt16(), b);
        }
        var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return System.Runtime.Intrinsics.Vector256.Sum(sum);
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

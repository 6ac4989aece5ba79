using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeCompile.Compiler;

namespace EdgeCompile.Benchmarks;

/// <summary>
/// <c>load-memory</c>: shows that loading a large model costs about its file size in memory.
/// The parent generates a ~N MB model in a temp folder, then starts a fresh child process per path
/// (<c>measure-load</c>), so each measurement starts from a clean process: the child resets its peak RSS,
/// runs <see cref="FrontEnd.Load"/>, reads every initializer's bytes and reports the peak RSS delta
/// (managed + native + touched file pages) over the file size.
/// Paths: <c>zero-copy</c> reads each weight through <see cref="Compiler.IR.Constant.TryGetRawBytes"/>
/// (the mapped file slice); <c>decode</c> materializes <see cref="Compiler.IR.Constant.Value"/> for contrast.
/// </summary>
public static class LoadMemory
{
    public const string ChildCommand = "measure-load";
    private const double MiB = 1024 * 1024;
    private const string ResultPrefix = "RESULT ";

    public sealed record Result(
        string Mode, long FileBytes, int Initializers, int LazyAfterLoad, int ReadZeroCopy, int Decoded,
        bool PeakReset, long BaselineRss, long BaselineHwm, long PeakAfterLoad, long PeakAfterRead,
        long RssAnonAfter, long RssFileAfter, long ManagedBefore, long ManagedAfter, long GcHeapSizeAfter,
        long AllocatedDuringLoad, long AllocatedTotal, double LoadMs, double ReadMs, ulong Checksum)
    {
        /// <summary>Peak RSS over the process's RSS just before loading.</summary>
        public long PeakDelta => PeakAfterRead - BaselineRss;
        /// <summary>Peak RSS over the baseline right after <see cref="FrontEnd.Load"/>, before any weight is read.</summary>
        public long LoadPeakDelta => PeakAfterLoad - BaselineRss;
        public double Ratio => (double)PeakDelta / FileBytes;
    }

    public static int Run(string[] args)
    {
        double sizeMb = 300, maxRatio = 1.3;
        bool keep = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--size-mb": sizeMb = ParsePositive(args, ++i, "--size-mb"); break;
                case "--max-ratio": maxRatio = ParsePositive(args, ++i, "--max-ratio"); break;
                case "--keep": keep = true; break;
                default: throw new UsageException($"unknown option '{args[i]}'.");
            }
        }
        if (!ProcStatus.IsAvailable)
        {
            Console.Error.WriteLine("load-memory: needs /proc/self/status (Linux).");
            return 1;
        }

        string dir = Path.Combine(Path.GetTempPath(), "edgecompile-load-memory-" + Guid.NewGuid().ToString("N")[..12]);
        string path = Path.Combine(dir, "model.onnx");
        Directory.CreateDirectory(dir);
        try
        {
            // 1. Generate (memory here is irrelevant to the measurement: it happens in this process, not the child).
            var layout = ModelGenerator.Plan((long)(sizeMb * MiB));
            Console.WriteLine($"Generating {layout.Layers} layers x ([{layout.Rows},{ModelGenerator.Columns}] weight + [{ModelGenerator.Columns}] bias) float32, {layout.Initializers} initializers, ~{layout.WeightBytes / MiB:F1} MiB of weights ...");
            var sw = Stopwatch.StartNew();
            var model = ModelGenerator.Build(layout);
            var afterBuild = ProcStatus.Read();
            ModelGenerator.Write(model, path);
            var afterWrite = ProcStatus.Read();
            double genSeconds = sw.Elapsed.TotalSeconds;
            model = null;
            GC.Collect();
            long fileBytes = new FileInfo(path).Length;
            Console.WriteLine($"Wrote {path}: {fileBytes / MiB:F1} MiB in {genSeconds:F1} s; generator peak RSS {afterWrite.VmHwm / MiB:F0} MiB " +
                              $"({afterWrite.VmHwm / (double)fileBytes:F2}x the file; {afterBuild.VmHwm / MiB:F0} MiB after building the IR, the writer buffers nested messages).");

            // 2. Measure each path in a fresh process.
            var zero = RunChild(path, "zero-copy");
            var dec = RunChild(path, "decode");

            Console.WriteLine();
            Console.WriteLine("| Path | File (MiB) | Load (ms) | Read weights (ms) | Peak delta after load only (MiB) | Peak RSS delta (MiB) | Peak / file | RssAnon / RssFile after (MiB) | GC heap after: GetTotalMemory / HeapSizeBytes at last GC (MiB) | Allocated (MiB) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in new[] { zero, dec })
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {(r.Mode == "zero-copy" ? "FrontEnd.Load + read raw slices (zero-copy)" : "FrontEnd.Load + decode every Constant.Value")} | {r.FileBytes / MiB:F1} | {r.LoadMs:F0} | {r.ReadMs:F0} | {r.LoadPeakDelta / MiB:F1} | {r.PeakDelta / MiB:F1} | {r.Ratio:F3} | {r.RssAnonAfter / MiB:F1} / {r.RssFileAfter / MiB:F1} | {r.ManagedAfter / MiB:F1} / {r.GcHeapSizeAfter / MiB:F1} | {r.AllocatedTotal / MiB:F1} |"));
            Console.WriteLine();
            Console.WriteLine($"Baseline RSS of the child before loading: {zero.BaselineRss / MiB:F1} MiB (peak reset: {(zero.PeakReset ? "yes" : "no, delta measured from current RSS, conservative")}); " +
                              $"initializers {zero.Initializers}, lazy after load {zero.LazyAfterLoad}, read zero-copy {zero.ReadZeroCopy}; " +
                              $"bytes allocated by FrontEnd.Load {zero.AllocatedDuringLoad / MiB:F2} MiB.");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load-memory: file {zero.FileBytes / MiB:F1} MB, peak {zero.PeakDelta / MiB:F1} MB, ratio {zero.Ratio:F3}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"(for contrast, decoding every constant: peak {dec.PeakDelta / MiB:F1} MB, ratio {dec.Ratio:F3})"));

            int exit = 0;
            if (zero.Checksum != dec.Checksum)
            {
                Console.Error.WriteLine($"load-memory: checksum mismatch between raw slices ({zero.Checksum:X16}) and decoded values ({dec.Checksum:X16}).");
                exit = 1;
            }
            if (zero.ReadZeroCopy != zero.Initializers)
            {
                Console.Error.WriteLine($"load-memory: only {zero.ReadZeroCopy} of {zero.Initializers} initializers were readable zero-copy.");
                exit = 1;
            }
            if (zero.Ratio >= maxRatio)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load-memory: ratio {zero.Ratio:F3} is not below the bound {maxRatio}."));
                exit = 1;
            }
            return exit;
        }
        finally
        {
            if (keep) Console.WriteLine($"Kept {path}");
            else Directory.Delete(dir, recursive: true);
        }
    }

    private static double ParsePositive(string[] args, int i, string option)
    {
        if (i >= args.Length || !double.TryParse(args[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v <= 0)
            throw new UsageException($"{option} needs a positive number.");
        return v;
    }

    /// <summary>Starts this executable again as <c>measure-load</c> and parses its result line.</summary>
    private static Result RunChild(string modelPath, string mode)
    {
        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the current executable.");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") // run as 'dotnet EdgeCompile.Benchmarks.dll'
            psi.ArgumentList.Add(typeof(LoadMemory).Assembly.Location);
        foreach (var a in new[] { ChildCommand, modelPath, "--mode", mode }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the child process.");
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"{ChildCommand} ({mode}) failed with exit code {p.ExitCode}:\n{output}");
        return JsonSerializer.Deserialize<Result>(line[ResultPrefix.Length..])!;
    }

    /// <summary>The child: load one model, read all weights one way, print the measurement as JSON.</summary>
    public static int RunChild(string[] args)
    {
        if (args.Length != 3 || args[1] != "--mode" || args[2] is not ("zero-copy" or "decode"))
            throw new UsageException("expected <model.onnx> --mode zero-copy|decode.");
        string path = args[0];
        bool decode = args[2] == "decode";
        long fileBytes = new FileInfo(path).Length;

        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        bool reset = ProcStatus.TryResetPeak();
        var s0 = ProcStatus.Read();

        var sw = Stopwatch.StartNew();
        var model = FrontEnd.Load(path);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        var s1 = ProcStatus.Read();
        long alloc1 = GC.GetTotalAllocatedBytes(precise: true);

        int count = 0, lazy = 0, zeroCopy = 0, decoded = 0;
        ulong checksum = 0;
        sw.Restart();
        foreach (var c in model.Graph.Initializers)
        {
            count++;
            if (c.IsLazy) lazy++;
            ulong sum;
            if (!decode && c.TryGetRawBytes(out var raw))
            {
                sum = Checksum(raw.Span);
                zeroCopy++;
            }
            else
            {
                var t = c.Value;
                var bytes = MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(t.Data), checked(t.Length * t.DataType.ElementSize()));
                sum = Checksum(bytes);
                decoded++;
            }
            checksum = checksum * 1_000_003 + sum;
        }
        double readMs = sw.Elapsed.TotalMilliseconds;
        var s2 = ProcStatus.Read();
        long alloc2 = GC.GetTotalAllocatedBytes(precise: true);
        long managedAfter = GC.GetTotalMemory(forceFullCollection: false);
        long heapSize = GC.GetGCMemoryInfo().HeapSizeBytes;
        GC.KeepAlive(model);
        model.Dispose();

        var result = new Result(args[2], fileBytes, count, lazy, zeroCopy, decoded,
            reset, s0.VmRss, s0.VmHwm, s1.VmHwm, s2.VmHwm, s2.RssAnon, s2.RssFile,
            managedBefore, managedAfter, heapSize, alloc1 - alloc0, alloc2 - alloc0, loadMs, readMs, checksum);
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>Wrapping sum of the bytes as 64-bit words: reads every byte (so every page is touched).</summary>
    private static ulong Checksum(ReadOnlySpan<byte> bytes)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        var vectors = MemoryMarshal.Cast<ulong, Vector<ulong>>(words);
        var acc = Vector<ulong>.Zero;
        foreach (var v in vectors) acc += v;
        ulong sum = Vector.Sum(acc);
        for (int i = vectors.Length * Vector<ulong>.Count; i < words.Length; i++) sum += words[i];
        for (int i = words.Length * sizeof(ulong); i < bytes.Length; i++) sum += bytes[i];
        return sum;
    }
}

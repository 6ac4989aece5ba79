using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeCompile.Kernels;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// The <c>profile</c> command: a per-layer breakdown of a compiled model. It reads the model's <c>.edgeplan</c>
/// (the same kernel calls, arena offsets and constant arguments the generated class executes) and replays each
/// call against the same kernels with the thread's CPU clock around it (time descheduled on a loaded machine is not
/// counted; the clock read costs ~0.3 µs, so sub-µs layers read high), then runs ONNX Runtime with its profiler on
/// (per-node kernel times) for comparison. Diagnostic only: timing each call adds ~30 ns per layer.
/// </summary>
public static class LayerProfile
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal sealed record Call(int Index, string Node, string Op, string Kernel, Action Run, string Shape, double Macs, Action? Parallel = null);

    public static int Run(string[] args)
    {
        if (args.Length == 0) throw new UsageException("expected <model> [--int8] [--runs N] [--all].");
        var m = Catalog.Get(args[0]);
        int runs = 50;
        bool int8 = false, all = false;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--int8") int8 = true;
            else if (args[i] == "--all") all = true;
            else if (args[i] == "--runs" && i + 1 < args.Length) runs = int.Parse(args[++i], Inv);
            else throw new UsageException($"unknown option '{args[i]}'.");
        }
        var (calls, input) = Load(m, int8 ? m.Int8Class : m.Create().GetType().Name);

        // EdgeCompile: the whole sequence in order (realistic caches), each call timed; median per call over the runs.
        var times = new double[calls.Count, runs];
        // Warm up for a second, pause, and again: the kernels must reach tier-1 code (a few dozen calls plus the
        // tiering delay), or small models are timed in tier-0 code several times slower than the suite measures.
        for (int phase = 0; phase < 2; phase++)
        {
            long w0 = Stopwatch.GetTimestamp();
            do foreach (var c in calls) c.Run(); while (Stopwatch.GetElapsedTime(w0).TotalSeconds < 1);
            Thread.Sleep(300);
        }
        for (int r = 0; r < runs; r++)
            for (int i = 0; i < calls.Count; i++)
            {
                double t0 = KernelTimes.ThreadSeconds();
                calls[i].Run();
                times[i, r] = (KernelTimes.ThreadSeconds() - t0) * 1e6;
            }
        var ours = calls.Select((c, i) => (c, us: Median(Enumerable.Range(0, runs).Select(r => times[i, r])))).ToList();

        // ONNX Runtime's profiler: per-node kernel times ("<node>_kernel_time" events).
        var ortNodes = new Dictionary<string, (string Op, List<double> Us)>();
        var ortOrder = new List<string>();
        using (var ort = new OrtRunner(int8 ? m.Int8Onnx : m.OnnxPath, input, m.OutputLength, Path.Combine(Path.GetTempPath(), $"ort-profile-{m.Name}")))
        {
            for (int w = 0; w < 5; w++) ort.Run();
            for (int r = 0; r < runs; r++) ort.Run();
            string file = ort.EndProfiling();
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node") continue;
                string name = e.GetProperty("name").GetString()!;
                if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                name = name[..^"_kernel_time".Length];
                string op = e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var o) ? o.GetString()! : "?";
                if (!ortNodes.TryGetValue(name, out var entry)) { ortNodes[name] = entry = (op, []); ortOrder.Add(name); }
                entry.Us.Add(e.GetProperty("dur").GetDouble());
            }
            File.Delete(file);
        }
        // The profiled runs include the warm-up ones: keep the last `runs` per node.
        var ortMedian = ortNodes.ToDictionary(kv => kv.Key, kv => (kv.Value.Op, Us: Median(kv.Value.Us.Skip(Math.Max(0, kv.Value.Us.Count - runs)))));

        double ourTotal = ours.Sum(o => o.us), ortTotal = ortMedian.Values.Sum(v => v.Us);
        Console.WriteLine(string.Create(Inv, $"{m.Name}{(int8 ? " int8 (ORT: our QDQ export)" : "")}: sum of per-layer medians: EdgeCompile {ourTotal / 1000:F3} ms over {calls.Count} kernel calls; ORT {ortTotal / 1000:F3} ms over {ortMedian.Count} nodes (after its fusions)"));
        Console.WriteLine();
        Console.WriteLine("By kernel (EdgeCompile) | calls | ms | share");
        foreach (var g in ours.GroupBy(o => KernelClass(o.c)).OrderByDescending(g => g.Sum(o => o.us)))
            Console.WriteLine(string.Create(Inv, $"  {g.Key,-34} | {g.Count(),4} | {g.Sum(o => o.us) / 1000,7:F3} | {100 * g.Sum(o => o.us) / ourTotal,5:F1}%"));
        Console.WriteLine("By op (ORT)              | nodes | ms | share");
        foreach (var g in ortMedian.GroupBy(kv => kv.Value.Op).OrderByDescending(g => g.Sum(kv => kv.Value.Us)))
            Console.WriteLine(string.Create(Inv, $"  {g.Key,-34} | {g.Count(),4} | {g.Sum(kv => kv.Value.Us) / 1000,7:F3} | {100 * g.Sum(kv => kv.Value.Us) / ortTotal,5:F1}%"));
        Console.WriteLine();
        Console.WriteLine("Slowest layers: EdgeCompile µs, GFLOPS | ORT µs for the node of the same name (its fused node keeps the name)");
        foreach (var (c, us) in ours.OrderByDescending(o => o.us).Take(15))
        {
            var match = ortMedian.Where(kv => kv.Key == c.Node || kv.Key.StartsWith(c.Node + "_", StringComparison.Ordinal)).Select(kv => kv.Value.Us).DefaultIfEmpty(double.NaN).Sum();
            string gflops = c.Macs > 0 ? string.Create(Inv, $"{2 * c.Macs / us / 1000,5:F1}") : "    -";
            Console.WriteLine(string.Create(Inv, $"  #{c.Index,-3} {c.Node,-20} {c.Kernel,-18} {c.Shape,-24} {us,9:F1} {gflops} | {match,9:F1}"));
        }
        if (all)
        {
            // Every call in plan order, then every ORT node in execution order (ORT renames the nodes it fuses, so the
            // two lists are matched by position, by eye).
            Console.WriteLine("All EdgeCompile calls in order: µs, GFLOPS");
            foreach (var (c, us) in ours)
                Console.WriteLine(string.Create(Inv, $"  #{c.Index,-3} {c.Node,-20} {c.Kernel,-18} {c.Shape,-24} {us,9:F1} {(c.Macs > 0 ? 2 * c.Macs / us / 1000 : 0),5:F1}"));
            Console.WriteLine("All ORT nodes in execution order: µs");
            foreach (var name in ortOrder)
                Console.WriteLine(string.Create(Inv, $"  {name,-40} {ortMedian[name].Op,-20} {ortMedian[name].Us,9:F1}"));
        }
        Console.WriteLine("ORT nodes: " + string.Join(", ", ortMedian.OrderByDescending(kv => kv.Value.Us).Take(8).Select(kv => string.Create(Inv, $"{kv.Key} ({kv.Value.Op}) {kv.Value.Us:F0} µs"))));
        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var a = values.ToArray();
        if (a.Length == 0) return 0;
        Array.Sort(a);
        return a[a.Length / 2];
    }

    /// <summary>A kernel call with its shape class (Conv: kernel size, depthwise or not).</summary>
    private static string KernelClass(Call c) => c.Kernel + (c.Op == "Conv" ? $" ({ConvClass(c.Shape)})" : "");

    private static string ConvClass(string shape) => shape[(shape.LastIndexOf(' ') + 1)..];

    /// <summary>A readable shape and the multiply-adds of a call (Conv, Gemm, MatMul; 0 for the rest).</summary>
    private static (string, double) Describe(string kernel, Arg[] a)
    {
        switch (kernel)
        {
            case "Conv.Conv2D":
            {
                int[] i = a[4..20].Select(v => v.I).ToArray();
                int n = i[0], c = i[1], h = i[2], w = i[3], k = i[4], kh = i[5], kw = i[6], oh = i[7], ow = i[8], s = i[9], g = i[15];
                string kind = (g == c && g > 1 ? "dw" : "") + $"{kh}x{kw}" + (s > 1 ? $"s{s}" : "");
                return ($"{c}->{k} {h}x{w} {kind}", (double)n * k * (c / g) * kh * kw * oh * ow);
            }
            case "QConv.Conv2D":
            {
                int[] i = a[6..22].Select(v => v.I).ToArray();
                int n = i[0], c = i[1], h = i[2], w = i[3], k = i[4], kh = i[5], kw = i[6], oh = i[7], ow = i[8], s = i[9], g = i[15];
                string kind = (g == c && g > 1 ? "dw" : "") + $"{kh}x{kw}" + (s > 1 ? $"s{s}" : "");
                return ($"{c}->{k} {h}x{w} {kind}", (double)n * k * (c / g) * kh * kw * oh * ow);
            }
            case "QConv.DepthwiseConv3x3" or "QConv.DepthwiseConv5x5":
            {
                int[] i = a[5..14].Select(v => v.I).ToArray();
                int taps = kernel.EndsWith("5x5", StringComparison.Ordinal) ? 25 : 9;
                return ($"{i[1]} {i[2]}x{i[3]} dw{(taps == 9 ? "3x3" : "5x5")}" + (i[6] > 1 ? $"s{i[6]}" : ""), (double)i[0] * i[1] * taps * i[4] * i[5]);
            }
            case "QGemm.Run": return ($"{a[5].I}x{a[6].I}x{a[7].I}", (double)a[5].I * a[6].I * a[7].I);
            case "QGemm.RunDequantized": return ($"{a[7].I}x{a[8].I}x{a[9].I}", (double)a[7].I * a[8].I * a[9].I);
            case "Gemm.Run": return ($"{a[4].I}x{a[5].I}x{a[6].I}", (double)a[4].I * a[5].I * a[6].I);
            case "Gemm.MatMul": return ($"{a[3].I}x[{a[4].I}x{a[5].I}x{a[6].I}]", (double)a[3].I * a[4].I * a[5].I * a[6].I);
            default: return ("", 0);
        }
    }

    // ---------------------------------------------------------------- plan replay

    /// <summary>The plan of one compiled class (each variant of a model has its own directory, named by its report).</summary>
    internal static (List<Call>, float[]) Load(BenchModel m, string className, int threads = 0)
    {
        string root = Catalog.Metadata("EdgeCompileOutputDir");
        var dir = Directory.GetDirectories(root, m.PlanStem + "_*").Single(d => File.Exists(Path.Combine(d, className + ".report.json")));
        string[] lines = File.ReadAllLines(Path.Combine(dir, m.PlanStem + ".edgeplan"));
        byte[] stored = File.ReadAllBytes(Path.Combine(dir, m.PlanStem + ".weights.bin"));
        byte[] dense = stored;
        if (WeightCompression.IsCompressed(stored))
        {
            dense = new byte[WeightCompression.DecodedLength(stored)];
            WeightCompression.Decode(stored, dense);
        }
        byte[] weights = dense;
        int arenaBytes = int.Parse(lines.First(l => l.StartsWith("arena ", StringComparison.Ordinal))[6..], Inv);
        var arena = new byte[arenaBytes + 64];
        var inputF = Catalog.Input(m.InputLength);
        byte[] input = MemoryMarshal.AsBytes(inputF.AsSpan()).ToArray();
        var output = new byte[4 * m.OutputLength];
        var calls = new List<Call>();
        string node = "", op = "";
        foreach (var line in lines)
        {
            var t = line.Split(' ');
            if (t[0] == "node") { op = t[2]; node = t[3]; continue; }
            if (t[0] != "call") continue;
            var a = t[2..].Select(s => new Arg(s, arena, weights, input, output)).ToArray();
            var (shape, macs) = Describe(t[1], a);
            calls.Add(new Call(calls.Count, node, op, t[1], Bind(t[1], a), shape, macs, threads > 1 && Splittable(t[1]) ? Bind(t[1], a, threads) : null));
        }
        return (calls, inputF);
    }

    /// <summary>One argument of a plan call: buffers as bytes of the arena, weights, input or output (a view per element type at call time).</summary>
    private sealed class Arg(string text, byte[] arena, byte[] weights, byte[] input, byte[] output)
    {
        private readonly string[] _p = text.Split(':');
        public Memory<byte> F => _p[0] switch
        {
            "in" => input,
            "out" => output,
            "a" => arena.AsMemory(int.Parse(_p[2], Inv), int.Parse(_p[3], Inv) * Size(_p[1])),
            "w" => weights.AsMemory(int.Parse(_p[2], Inv), int.Parse(_p[3], Inv) * Size(_p[1])),
            "e" or "empty" or "none" => Memory<byte>.Empty,
            _ => throw new NotSupportedException($"argument {text}"),
        };
        private static int Size(string type) => type switch { "f64" or "i64" => 8, "f32" or "i32" => 4, "i16" or "u16" => 2, _ => 1 };
        public int I => int.Parse(_p[1], Inv);
        public int ElementSize => Size(_p[1]);
        public float R => float.Parse(_p[1], Inv);
        public bool B => bool.Parse(_p[1]);
        public int[] Ints => _p[1].Split(',').Select(s => int.Parse(s, Inv)).ToArray();
        public T E<T>() where T : struct, Enum => Enum.Parse<T>(_p[1][(_p[1].IndexOf('.') + 1)..]);
    }

    private static Span<float> Fl(Memory<byte> m) => MemoryMarshal.Cast<byte, float>(m.Span);
    private static Span<sbyte> S8(Memory<byte> m) => MemoryMarshal.Cast<byte, sbyte>(m.Span);
    private static Span<int> I32(Memory<byte> m) => MemoryMarshal.Cast<byte, int>(m.Span);

    /// <summary>Kernels whose multi-threaded entry <see cref="Bind"/> can bind (the <c>threads --layers</c> command).</summary>
    private static bool Splittable(string kernel) => kernel is "Conv.Conv2D" or "QConv.Conv2D" or "QConv.DepthwiseConv3x3" or "QConv.DepthwiseConv5x5";

    /// <summary>The call as a closure; with <paramref name="threads"/> above 1, a convolution's multi-threaded entry (whatever
    /// its size: the <c>threads --layers</c> command times both).</summary>
    private static Action Bind(string kernel, Arg[] a, int threads = 1)
    {
        switch (kernel)
        {
            case "Conv.Conv2D":
            {
                var (x, w, bias, y) = (a[0].F, a[1].F, a[2].F, a[3].F);
                int[] i = a[4..20].Select(v => v.I).ToArray();
                var act = a[20].E<Activation>();
                float p0 = a[21].R, p1 = a[22].R;
                if (threads > 1)
                    return () => Conv.Conv2DParallel(Fl(x), Fl(w), Fl(bias), Fl(y), i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8],
                        i[9], i[10], i[11], i[12], i[13], i[14], i[15], act, p0, p1, threads);
                return (() => Conv.Conv2D(Fl(x), Fl(w), Fl(bias), Fl(y), i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8],
                    i[9], i[10], i[11], i[12], i[13], i[14], i[15], act, p0, p1));
            }
            case "Gemm.Run":
            {
                var (x, w, c, y) = (a[0].F, a[1].F, a[2].F, a[3].F);
                int m = a[4].I, k = a[5].I, n = a[6].I, cr = a[11].I, cc = a[12].I;
                bool ta = a[7].B, tb = a[8].B;
                float alpha = a[9].R, beta = a[10].R, p0 = a[14].R, p1 = a[15].R;
                var act = a[13].E<Activation>();
                return () => Gemm.Run(Fl(x), Fl(w), Fl(c), Fl(y), m, k, n, ta, tb, alpha, beta, cr, cc, act, p0, p1);
            }
            case "Gemm.MatMul":
            {
                var (x, w, y) = (a[0].F, a[1].F, a[2].F);
                int[] i = a[3..9].Select(v => v.I).ToArray();
                return () => Gemm.MatMul(Fl(x), Fl(w), Fl(y), i[0], i[1], i[2], i[3], i[4], i[5]);
            }
            case "Elementwise.Binary":
            {
                var op = a[0].E<BinaryOp>();
                var (x, b, y) = (a[1].F, a[2].F, a[3].F);
                int[] shape = a[4].Ints, sa = a[5].Ints, sb = a[6].Ints;
                return () => Elementwise.Binary(op, Fl(x), Fl(b), Fl(y), shape, sa, sb);
            }
            case "Elementwise.Unary":
            {
                var op = a[0].E<UnaryOp>();
                var (x, y) = (a[1].F, a[2].F);
                float p0 = a[3].R, p1 = a[4].R;
                return () => Elementwise.Unary(op, Fl(x), Fl(y), p0, p1);
            }
            case "Normalization.Softmax":
            {
                var (x, y) = (a[0].F, a[1].F);
                int o = a[2].I, ax = a[3].I, inner = a[4].I;
                bool log = a[5].B;
                return () => Normalization.Softmax(Fl(x), Fl(y), o, ax, inner, log);
            }
            case "Normalization.LayerNorm":
            {
                var (x, s, b, y) = (a[0].F, a[1].F, a[2].F, a[3].F);
                int o = a[4].I, inner = a[5].I;
                float eps = a[6].R;
                return () => Normalization.LayerNorm(Fl(x), Fl(s), Fl(b), Fl(y), o, inner, eps);
            }
            case "Data.StridedCopy":
            {
                var (x, y) = (a[0].F, a[1].F);
                int off = a[2].I;
                int[] shape = a[3].Ints, strides = a[4].Ints;
                return () => Data.StridedCopy<float>(Fl(x), Fl(y), off, shape, strides);
            }
            case "Pool.MaxPool2D":
            {
                var (x, y) = (a[0].F, a[1].F);
                int[] i = a[2..16].Select(v => v.I).ToArray();
                return () => Pool.MaxPool2D(Fl(x), Fl(y), i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], i[9], i[10], i[11], i[12], i[13]);
            }
            case "Pool.GlobalAverage":
            {
                var (x, y) = (a[0].F, a[1].F);
                int c = a[2].I, s = a[3].I;
                return () => Pool.GlobalAverage(Fl(x), Fl(y), c, s);
            }
            // int8 plans (argument order as in Tasks/EdgeCompile.Compiler/Lowering/Int8/PlanInterpreter.cs)
            case "QLinear.Quantize":
            {
                var (x, y) = (a[0].F, a[1].F); float scale = a[2].R; int z = a[3].I;
                return () => QLinear.Quantize(Fl(x), y.Span, scale, z);
            }
            case "QLinear.Dequantize":
            {
                var (x, y) = (a[0].F, a[1].F); float scale = a[2].R; int z = a[3].I;
                return () => QLinear.Dequantize(x.Span, Fl(y), scale, z);
            }
            case "QConv.Conv2D":
            {
                var (x, w, bias, y, scratch) = (a[0].F, a[2].F, a[3].F, a[4].F, a[5].F);
                int xz = a[1].I;
                int[] i = a[6..22].Select(v => v.I).ToArray();
                int[] mult = a[22].Ints, sh = a[23].Ints;
                int z = a[24].I, lo = a[25].I, hi = a[26].I;
                var layout = a.Length > 27 ? a[27].E<QWeightLayout>() : QWeightLayout.N8K4Sums;
                if (threads > 1)
                {
                    var parts = new byte[QConv.PartScratchLength(i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], i[9], i[10], i[11], i[12], i[13], i[14], i[15], threads)];
                    return () => QConv.Conv2DParallel(x.Span, xz, S8(w), I32(bias), y.Span, scratch.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8],
                        i[9], i[10], i[11], i[12], i[13], i[14], i[15], mult, sh, z, lo, hi, layout, parts, threads);
                }
                return () => QConv.Conv2D(x.Span, xz, S8(w), I32(bias), y.Span, scratch.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8],
                    i[9], i[10], i[11], i[12], i[13], i[14], i[15], mult, sh, z, lo, hi, layout);
            }
            case "QConv.DepthwiseConv3x3" or "QConv.DepthwiseConv5x5":
            {
                var (x, w, bias, y) = (a[0].F, a[2].F, a[3].F, a[4].F);
                int xz = a[1].I;
                int[] i = a[5..14].Select(v => v.I).ToArray();
                int[] mult = a[14].Ints, sh = a[15].Ints;
                int z = a[16].I, lo = a[17].I, hi = a[18].I;
                if (threads > 1 && kernel == "QConv.DepthwiseConv5x5")
                    return () => QConv.DepthwiseConv5x5Parallel(x.Span, xz, S8(w), I32(bias), y.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], mult, sh, z, lo, hi, threads);
                if (threads > 1)
                    return () => QConv.DepthwiseConv3x3Parallel(x.Span, xz, S8(w), I32(bias), y.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], mult, sh, z, lo, hi, threads);
                if (kernel == "QConv.DepthwiseConv5x5")
                    return () => QConv.DepthwiseConv5x5(x.Span, xz, S8(w), I32(bias), y.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], mult, sh, z, lo, hi);
                return () => QConv.DepthwiseConv3x3(x.Span, xz, S8(w), I32(bias), y.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], mult, sh, z, lo, hi);
            }
            case "QGemm.Run":
            {
                var (x, w, bias, y) = (a[0].F, a[2].F, a[3].F, a[4].F);
                int xz = a[1].I, m = a[5].I, k = a[6].I, n = a[7].I, z = a[10].I, lo = a[11].I, hi = a[12].I;
                int[] mult = a[8].Ints, sh = a[9].Ints;
                var layout = a.Length > 13 ? a[13].E<QWeightLayout>() : QWeightLayout.N8K4Sums;
                return () => QGemm.Run(x.Span, xz, S8(w), I32(bias), y.Span, m, k, n, mult, sh, z, lo, hi, layout);
            }
            case "QElementwise.Add":
            {
                var (x, b, y) = (a[0].F, a[3].F, a[7].F);
                int[] i = [a[1].I, a[2].I, a[4].I, a[5].I, a[6].I, a[8].I, a[9].I, a[10].I];
                return () => QElementwise.Add(x.Span, i[0], i[1], b.Span, i[2], i[3], i[4], y.Span, i[5], i[6], i[7]);
            }
            case "QPool.MaxPool2D":
            {
                var (x, y) = (a[0].F, a[1].F);
                int[] i = a[2..16].Select(v => v.I).ToArray();
                return () => QPool.MaxPool2D(x.Span, y.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], i[9], i[10], i[11], i[12], i[13]);
            }
            case "QPool.GlobalAveragePool":
            {
                var (x, y) = (a[0].F, a[2].F);
                int[] i = [a[1].I, .. a[3..10].Select(v => v.I)];
                return () => QPool.GlobalAveragePool(x.Span, i[0], y.Span, i[1], i[2], i[3], i[4], i[5], i[6], i[7]);
            }
            case "QPool.AveragePool2D":
            {
                var (x, y) = (a[0].F, a[2].F);
                int xz = a[1].I;
                int[] i = a[3..17].Select(v => v.I).ToArray();
                bool cip = a[17].B;
                int[] r = a[18..23].Select(v => v.I).ToArray();
                return () => QPool.AveragePool2D(x.Span, xz, y.Span, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], i[9], i[10], i[11], i[12], i[13],
                    cip, r[0], r[1], r[2], r[3], r[4]);
            }
            // Int8Dynamic and Int8WeightOnly
            case "QLinear.QuantizeRowsDynamic":
            {
                var (x, y, scales, zeros) = (a[0].F, a[1].F, a[2].F, a[3].F);
                int rows = a[4].I, cols = a[5].I;
                return () => QLinear.QuantizeRowsDynamic(Fl(x), y.Span, Fl(scales), I32(zeros), rows, cols);
            }
            case "QGemm.RunDequantized":
            {
                var (x, zeros, scales, w, wScale, bias, y) = (a[0].F, a[1].F, a[2].F, a[3].F, a[4].F, a[5].F, a[6].F);
                int m = a[7].I, k = a[8].I, n = a[9].I;
                var layout = a.Length > 10 ? a[10].E<QWeightLayout>() : QWeightLayout.N8K4Sums;
                return () => QGemm.RunDequantized(x.Span, I32(zeros), Fl(scales), S8(w), Fl(wScale), Fl(bias), Fl(y), m, k, n, layout);
            }
            case "QLinear.DequantizeChannels":
            {
                var (w, scales, y) = (a[0].F, a[1].F, a[2].F);
                int rows = a[3].I, cols = a[4].I, axis = a[5].I;
                return () => QLinear.DequantizeChannels(S8(w), Fl(scales), Fl(y), rows, cols, axis);
            }
            case "Data.CopyBlocks":
            {
                // The element type only scales the byte counts (Lowering/Int8/PlanInterpreter.cs); the arena views are bytes.
                var (x, y) = (a[0].F, a[1].F);
                int e = a[0].ElementSize;
                int blocks = a[2].I, len = a[3].I * e, sx = a[4].I * e, sy = a[5].I * e;
                return () => Data.CopyBlocks<byte>(x.Span, y.Span, blocks, len, sx, sy);
            }
            case "Data.Copy":
            {
                var (x, y) = (a[0].F, a[1].F);
                return () => x.Span.CopyTo(y.Span);
            }
            default:
                throw new NotSupportedException($"profile: kernel {kernel} is not replayed yet (add a case in LayerProfile.Bind)");
        }
    }
}

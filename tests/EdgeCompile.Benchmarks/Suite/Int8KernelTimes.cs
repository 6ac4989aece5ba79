using System.Globalization;
using EdgeCompile.Kernels;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// The <c>int8-kernel-times</c> command: median time and GOPS (2 x multiply-adds / median) of the int8 kernels on the layer
/// shapes that dominate the int8 models' profiles, next to the measured <c>vpmaddwd</c> peak (as in the report's kernel
/// table). Times are the calling thread's CPU time (<see cref="KernelTimes.ThreadSeconds"/>), so runs on a loaded shared
/// machine, or of two builds taken minutes apart, stay comparable; the report's BenchmarkDotNet table (wall clock) is the
/// published number. Inputs: random u8 activations, s8 weights in [-127, 127], per-channel requantization.
/// </summary>
public static class Int8KernelTimes
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        int reps = 15;
        for (int i = 0; i + 1 < args.Length; i += 2)
            if (args[i] == "--reps") reps = int.Parse(args[i + 1], Inv);
            else if (args[i] == "--only") _only = args[i + 1];
        double clock = Machine.MeasureClockMHz();
        double peak = 2 * 16 * Machine.MeasureMaddPerCycle(clock) * clock / 1000;
        Console.WriteLine(string.Create(Inv, $"int8 peak (vpmaddwd, measured as in the report): {peak:F1} GOPS"));
        Gemm("QGemm.Run 512x512x512", 512, 512, 512, false, reps, peak);
        Gemm("QGemm.Run 3136x576x64", 3136, 576, 64, false, reps, peak);
        Gemm("QGemm.Run 49x4608x512 (row kernel: k > blocked)", 49, 4608, 512, false, reps, peak);
        // Batch-1 dense layers (the m < 16 path): the tiny MLP's three and the digits CNN's classifier; x64 packs them without sums (N8K4).
        Gemm("QGemm.Run 1x64x128 (tiny MLP)", 1, 64, 128, false, reps, peak, QWeightLayout.N8K4);
        Gemm("QGemm.Run 1x128x128 (tiny MLP)", 1, 128, 128, false, reps, peak, QWeightLayout.N8K4);
        Gemm("QGemm.Run 1x128x10 (tiny MLP)", 1, 128, 10, false, reps, peak, QWeightLayout.N8K4);
        Gemm("QGemm.RunDequantized 128x256x1024 (FFN1)", 128, 256, 1024, true, reps, peak);
        Gemm("QGemm.RunDequantized 128x1024x256 (FFN2)", 128, 1024, 256, true, reps, peak);
        Gemm("QGemm.RunDequantized 128x256x256 (QKV/out)", 128, 256, 256, true, reps, peak);
        Conv("QConv 64->64 56x56 3x3 (ResNet stage 1)", 64, 56, 64, 3, reps, peak);
        Conv("QConv 256->256 14x14 3x3 (ResNet stage 3)", 256, 14, 256, 3, reps, peak);
        // The rest of ResNet-18's convolutions (input size; stride 2 layers halve it).
        Conv("QConv 512->512 7x7 3x3 (ResNet stage 4)", 512, 7, 512, 3, reps, peak);
        Conv("QConv 128->128 28x28 3x3 (ResNet stage 2)", 128, 28, 128, 3, reps, peak);
        Conv("QConv 256->512 14x14 3x3 s2 (ResNet stage 4 entry)", 256, 14, 512, 3, reps, peak, 2);
        Conv("QConv 128->256 28x28 3x3 s2 (ResNet stage 3 entry)", 128, 28, 256, 3, reps, peak, 2);
        Conv("QConv 64->128 56x56 3x3 s2 (ResNet stage 2 entry)", 64, 56, 128, 3, reps, peak, 2);
        Conv("QConv 256->512 14x14 1x1 s2 (ResNet downsample)", 256, 14, 512, 1, reps, peak, 2);
        Conv("QConv 3->64 224x224 7x7 s2 (ResNet stem)", 3, 224, 64, 7, reps, peak, 2);
        Conv("QConv 16->96 112x112 1x1 (MobileNetV2)", 16, 112, 96, 1, reps, peak);
        Conv("QConv 144->24 56x56 1x1 (MobileNetV2)", 144, 56, 24, 1, reps, peak);
        Conv("QConv 16->32 8x8 3x3 (digits)", 16, 8, 32, 3, reps, peak);
        Conv("QConv 32->32 4x4 3x3 (digits)", 32, 4, 32, 3, reps, peak);
        // MobileNetV2's depthwise 3x3 layers (channels, input size, stride), pad 1.
        foreach (var (c, hw, s) in new[] { (32, 112, 1), (96, 112, 2), (144, 56, 1), (144, 56, 2), (192, 28, 1), (192, 28, 2), (384, 14, 1), (576, 14, 1), (576, 14, 2), (960, 7, 1) })
            Depthwise(string.Create(Inv, $"QConv.DepthwiseConv3x3 {c}x{hw}x{hw} s{s} (MobileNetV2)"), c, hw, s, reps, peak);
        // 5x5 depthwise layers (MobileNetV3/EfficientNet shapes, pad 2): the specialized kernel next to the general grouped QConv
        // path the same layer took before it existed.
        foreach (var (c, hw, s) in new[] { (72, 56, 2), (120, 28, 1), (240, 28, 2), (480, 14, 1), (576, 14, 2), (960, 7, 1) })
            Depthwise5x5(c, hw, s, reps, peak);
        MaxPool("QPool.MaxPool2D 64x112x112 3x3/2 (ResNet)", 64, 112, 3, 2, 1, reps);
        MaxPool("QPool.MaxPool2D 32x8x8 2x2/2 (digits)", 32, 8, 2, 2, 0, reps);
        var r = new Random(3);
        var xf = new float[128 * 256];
        for (int i = 0; i < xf.Length; i++) xf[i] = r.NextSingle() * 4 - 2;
        var q = new byte[xf.Length]; var scales = new float[128]; var zeros = new int[128];
        Time("QLinear.QuantizeRowsDynamic 128x256", 0, reps, 0, () => QLinear.QuantizeRowsDynamic(xf, q, scales, zeros, 128, 256));
        // The edges of the small int8 models: the tiny MLP's input (64) and logits (10).
        Time("QLinear.Quantize 64 (tiny MLP input)", 0, reps, 0, () => QLinear.Quantize(xf.AsSpan(0, 64), q.AsSpan(0, 64), 0.0078f, 128));
        Time("QLinear.Dequantize 10 (tiny MLP logits)", 0, reps, 0, () => QLinear.Dequantize(q.AsSpan(0, 10), xf.AsSpan(0, 10), 0.05f, 120));
        return 0;
    }

    private static byte[] U8(Random r, int n) { var a = new byte[n]; r.NextBytes(a); return a; }

    private static sbyte[] S8(Random r, int n)
    {
        var w = new sbyte[n];
        for (int i = 0; i < n; i++) w[i] = (sbyte)r.Next(-127, 128);
        return w;
    }

    private static (int[] Mult, int[] Shift) Requant(Random r, int n)
        => (Enumerable.Range(0, n).Select(_ => r.Next(1 << 30, int.MaxValue)).ToArray(), Enumerable.Repeat(8, n).ToArray());

    private static void Gemm(string name, int m, int k, int n, bool dequantized, int reps, double peak, QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        var r = new Random(1);
        var a = U8(r, m * k);
        var packed = new sbyte[QGemm.PackedLength(n, k, layout)];
        QGemm.PackWeights(S8(r, n * k), packed, n, k, layout);
        var (mult, shift) = Requant(r, n);
        var bias = new int[n];
        var y = new byte[m * n];
        var yf = new float[m * n];
        var zeros = Enumerable.Range(0, m).Select(_ => r.Next(256)).ToArray();
        var aScale = Enumerable.Repeat(0.02f, m).ToArray();
        var wScale = Enumerable.Repeat(0.01f, n).ToArray();
        var biasF = new float[n];
        Time(name, 2.0 * m * k * n, reps, peak, dequantized
            ? () => QGemm.RunDequantized(a, zeros, aScale, packed, wScale, biasF, yf, m, k, n, layout)
            : () => QGemm.Run(a, 3, packed, bias, y, m, k, n, mult, shift, 128, 0, 255, layout));
    }

    private static void Conv(string name, int c, int hw, int kOut, int ks, int reps, double peak, int stride = 1)
    {
        var r = new Random(2);
        int pad = ks / 2, o = (hw + 2 * pad - ks) / stride + 1;
        var x = U8(r, c * hw * hw);
        var packed = new sbyte[QConv.PackedLength(kOut, c, ks, ks, 1)];
        QConv.PackWeights(S8(r, kOut * c * ks * ks), packed, kOut, c, ks, ks, 1);
        var (mult, shift) = Requant(r, kOut);
        var bias = new int[kOut];
        var y = new byte[kOut * o * o];
        var scratch = new byte[QConv.ScratchLength(c, hw, hw, kOut, ks, ks, o, o, stride, stride, pad, pad, 1, 1, 1)];
        Time(name, 2.0 * kOut * c * ks * ks * o * o, reps, peak, () => QConv.Conv2D(x, 3, packed, bias, y, scratch, 1, c, hw, hw, kOut, ks, ks, o, o,
            stride, stride, pad, pad, 1, 1, 1, mult, shift, 128, 0, 255));
    }

    private static void Depthwise(string name, int c, int hw, int stride, int reps, double peak)
    {
        var r = new Random(5);
        int o = (hw + 2 - 3) / stride + 1;
        var x = U8(r, c * hw * hw);
        var w = S8(r, c * 9);
        var (mult, shift) = Requant(r, c);
        var bias = new int[c];
        var y = new byte[c * o * o];
        Time(name, 2.0 * 9 * c * o * o, reps, peak, () => QConv.DepthwiseConv3x3(x, 3, w, bias, y, 1, c, hw, hw, o, o, stride, 1, 1, mult, shift, 128, 0, 255));
    }

    private static void Depthwise5x5(int c, int hw, int stride, int reps, double peak)
    {
        var r = new Random(6);
        int o = (hw + 4 - 5) / stride + 1;
        var x = U8(r, c * hw * hw);
        var w = S8(r, c * 25);
        var (mult, shift) = Requant(r, c);
        var bias = new int[c];
        var y = new byte[c * o * o];
        double ops = 2.0 * 25 * c * o * o;
        Time(string.Create(Inv, $"QConv.DepthwiseConv5x5 {c}x{hw}x{hw} s{stride}"), ops, reps, peak,
            () => QConv.DepthwiseConv5x5(x, 3, w, bias, y, 1, c, hw, hw, o, o, stride, 2, 2, mult, shift, 128, 0, 255));
        var packed = new sbyte[QConv.PackedLength(c, 1, 5, 5, c)];
        QConv.PackWeights(w, packed, c, 1, 5, 5, c);
        var scratch = new byte[QConv.ScratchLength(c, hw, hw, c, 5, 5, o, o, stride, stride, 2, 2, 1, 1, c)];
        Time(string.Create(Inv, $"  same 5x5 layer, general QConv.Conv2D (group = c)"), ops, reps, peak,
            () => QConv.Conv2D(x, 3, packed, bias, y, scratch, 1, c, hw, hw, c, 5, 5, o, o, stride, stride, 2, 2, 1, 1, c, mult, shift, 128, 0, 255));
    }

    private static void MaxPool(string name, int c, int hw, int ks, int stride, int pad, int reps)
    {
        var r = new Random(4);
        int o = (hw + 2 * pad - ks) / stride + 1;
        var x = U8(r, c * hw * hw);
        var y = new byte[c * o * o];
        Time(name, 0, reps, 0, () => QPool.MaxPool2D(x, y, 1, c, hw, hw, ks, ks, o, o, stride, stride, pad, pad, 1, 1));
    }

    private static string? _only;

    private static void Time(string name, double ops, int reps, double peak, Action run)
    {
        if (_only != null && !name.Contains(_only, StringComparison.OrdinalIgnoreCase)) return;
        long w0 = System.Diagnostics.Stopwatch.GetTimestamp();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(w0).TotalMilliseconds < 400) run();
        // Each sample: as many calls as fill ~20 ms (the count from 20 calls), so small layers are not timed one call at a time.
        double c0 = KernelTimes.ThreadSeconds();
        for (int i = 0; i < 20; i++) run();
        double once = Math.Max(1e-7, (KernelTimes.ThreadSeconds() - c0) / 20);
        int inner = Math.Max(1, (int)(0.02 / once));
        var t = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            double s = KernelTimes.ThreadSeconds();
            for (int j = 0; j < inner; j++) run();
            t[i] = (KernelTimes.ThreadSeconds() - s) / inner;
        }
        Array.Sort(t);
        double med = t[reps / 2];
        string rate = ops > 0 ? string.Create(Inv, $"{ops / med / 1e9,7:F1} GOPS {100 * ops / med / 1e9 / peak,4:F0}%") : "";
        Console.WriteLine(string.Create(Inv, $"{name,-50} {med * 1e6,10:F2} µs {rate}"));
    }
}

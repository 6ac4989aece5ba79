using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using EdgeCompile.Kernels;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// The <c>kernel-times</c> command: median time and GFLOPS of the float kernels on the layer shapes that dominate the
/// benchmark models' profiles (a quick loop for kernel work; the report's kernel table is the published number).
/// Times are the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID on Linux, wall clock elsewhere): on a shared
/// machine, time spent descheduled is not counted, so runs taken minutes apart stay comparable.
/// </summary>
public static class KernelTimes
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Sec; public long Nsec; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec ts);

    /// <summary>Seconds of CPU time of the calling thread (Linux), else of wall clock.</summary>
    public static double ThreadSeconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var ts) == 0) return ts.Sec + ts.Nsec * 1e-9;
        return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    public static int Run(string[] args)
    {
        int reps = 15;
        for (int i = 0; i + 1 < args.Length; i += 2)
            if (args[i] == "--reps") reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            else if (args[i] == "--only") s_only = args[i + 1];
        Gemm("Gemm 512x512x512", 512, 512, 512, reps);
        Gemm("Gemm 128x256x1024 (transformer FFN1)", 128, 256, 1024, reps);
        Gemm("Gemm 128x1024x256 (transformer FFN2)", 128, 1024, 256, reps);
        Classifier("Gemm<TLayer> 1x1280x1000 (MobileNetV2 classifier, 8 weight copies: from memory)", reps);
        Conv("Conv 64->64 56x56 3x3 (ResNet stage 1)", 64, 56, 64, 3, 1, 1, reps);
        Conv("Conv 128->128 28x28 3x3 (ResNet stage 2)", 128, 28, 128, 3, 1, 1, reps);
        Conv("Conv 256->256 14x14 3x3 (ResNet stage 3)", 256, 14, 256, 3, 1, 1, reps);
        Conv("Conv 512->512 7x7 3x3 (ResNet stage 4)", 512, 7, 512, 3, 1, 1, reps);
        Conv("Conv 3->64 224x224 7x7/2 (ResNet stem)", 3, 224, 64, 7, 2, 1, reps);
        Conv("Conv 256->512 14x14 3x3/2 (ResNet stage 4)", 256, 14, 512, 3, 2, 1, reps);
        Conv("Conv 16->96 112x112 1x1 (MobileNetV2)", 16, 112, 96, 1, 1, 1, reps);
        Conv("Conv 320->1280 7x7 1x1 (MobileNetV2)", 320, 7, 1280, 1, 1, 1, reps);
        Conv("Conv 96->576 14x14 1x1 (MobileNetV2)", 96, 14, 576, 1, 1, 1, reps);
        Conv("Conv 3->32 224x224 3x3/2 (MobileNetV2 stem)", 3, 224, 32, 3, 2, 1, reps);
        Conv("Conv 1->16 8x8 3x3 (digits)", 1, 8, 16, 3, 1, 1, reps);
        Conv("Conv 16->32 8x8 3x3 (digits)", 16, 8, 32, 3, 1, 1, reps);
        Conv("Conv 32->32 4x4 3x3 (digits)", 32, 4, 32, 3, 1, 1, reps);
        // Every pointwise (1x1) shape of MobileNetV2 with its activation (Clip(0, 6) after the expansions, none after the
        // projections), and their sum weighted by how often each occurs (34 layers).
        double pwTotal = 0;
        bool allPw = true;
        foreach (var (ch, hw, kOut, count) in MobileNetV2Pointwise)
        {
            var act = kOut > ch ? Activation.Clip : Activation.None;
            double t = Pointwise($"Conv pw {ch}->{kOut} {hw}x{hw} 1x1{(act == Activation.Clip ? " clip" : "")} (MobileNetV2 x{count})", ch, hw, kOut, act, reps);
            if (double.IsNaN(t)) allPw = false; else pwTotal += count * t;
        }
        if (allPw)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"Conv pw: MobileNetV2's 34 layers (sum)",-44} {pwTotal * 1e6,10:F1} µs"));
        // Every depthwise shape of MobileNetV2 (Clip(0, 6) fused, as in the model), and their sum weighted by how often
        // each occurs (13 stride-1 and 4 stride-2 layers); then one plane alone, repeated (input and output stay in
        // L1/L2), against the per-plane time of the whole layer, to separate the arithmetic from the memory traffic.
        double dwTotal = 0;
        bool all = true;
        foreach (var (ch, hw, stride, count) in MobileNetV2Depthwise)
        {
            double t = Depthwise($"Conv dw {ch} {hw}x{hw} 3x3{(stride == 2 ? "/2" : "")} (MobileNetV2 x{count})", ch, hw, stride, reps);
            if (double.IsNaN(t)) all = false; else dwTotal += count * t;
        }
        if (all)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"Conv dw: MobileNetV2's 17 layers (sum)",-44} {dwTotal * 1e6,10:F1} µs"));
        Depthwise("Conv dw 1 112x112 3x3 (one plane, cached)", 1, 112, 1, reps);
        Depthwise("Conv dw 1 112x112 3x3/2 (one plane, cached)", 1, 112, 2, reps);
        Depthwise("Conv dw 1 56x56 3x3 (one plane, cached)", 1, 56, 1, reps);
        Depthwise("Conv dw 1 14x14 3x3 (one plane, cached)", 1, 14, 1, reps);
        Depthwise("Conv dw 1 7x7 3x3 (one plane, cached)", 1, 7, 1, reps);
        return 0;
    }

    /// <summary>With <c>--only TEXT</c>, only the kernels whose name contains TEXT run.</summary>
    private static string? s_only;

    private static void Gemm(string name, int m, int k, int n, int reps)
    {
        if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return;
        var r = new Random(1);
        float[] a = Fill(r, m * k), b = Fill(r, k * n), y = new float[m * n];
        Time(name, 2.0 * m * k * n, reps, () => EdgeCompile.Kernels.Gemm.Run(a, b, [], y, m, k, n, false, false, 1f, 1f, 0, 0, Activation.None, 0f, 0f));
    }

    /// <summary>MobileNetV2's classifier as the generated code calls it (the layer-specialized matrix-vector kernel).</summary>
    private struct MobileNetClassifier : IGemmLayer
    {
        public static int M => 1; public static int K => 1280; public static int N => 1000;
        public static bool TransA => false; public static bool TransB => true; public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 1; public static int CCols => 1000; public static Activation Act => Activation.None; public static float P0 => 0f; public static float P1 => 0f;
    }

    /// <summary>The classifier over 8 copies of its weights in turn (40 MB, more than the L3), so each call reads them from
    /// memory as inside the model, where the other layers' data has evicted them.</summary>
    private static void Classifier(string name, int reps)
    {
        if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return;
        var r = new Random(4);
        float[] a = Fill(r, 1280), c = Fill(r, 1000), y = new float[1000];
        float[][] w = Enumerable.Range(0, 8).Select(_ => Fill(r, 1280 * 1000)).ToArray();
        int next = 0;
        Time(name, 2.0 * 1280 * 1000, reps, () => EdgeCompile.Kernels.Gemm.Run<MobileNetClassifier>(a, w[next++ & 7], c, y));
    }

    private static void Conv(string name, int c, int hw, int kOut, int ks, int stride, int group, int reps)
    {
        if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return;
        var r = new Random(2);
        int pad = ks / 2, o = (hw + 2 * pad - ks) / stride + 1;
        float[] x = Fill(r, c * hw * hw), w = Fill(r, kOut * (c / group) * ks * ks), bias = Fill(r, kOut), y = new float[kOut * o * o];
        double flops = 2.0 * kOut * (c / group) * ks * ks * o * o;
        Time(name, flops, reps, () => EdgeCompile.Kernels.Conv.Conv2D(x, w, bias, y, 1, c, hw, hw, kOut, ks, ks, o, o, stride, stride, pad, pad, 1, 1, group, Activation.Relu, 0f, 0f));
    }

    /// <summary>MobileNetV2's pointwise (1x1) layers: input channels, plane size, output channels, how many layers have the shape.</summary>
    private static readonly (int C, int Hw, int K, int Count)[] MobileNetV2Pointwise =
    [
        (32, 112, 16, 1), (16, 112, 96, 1), (96, 56, 24, 1), (24, 56, 144, 2), (144, 56, 24, 1), (144, 28, 32, 1),
        (32, 28, 192, 3), (192, 28, 32, 2), (192, 14, 64, 1), (64, 14, 384, 4), (384, 14, 64, 3), (384, 14, 96, 1),
        (96, 14, 576, 3), (576, 14, 96, 2), (576, 7, 160, 1), (160, 7, 960, 3), (960, 7, 160, 2), (960, 7, 320, 1),
        (320, 7, 1280, 1),
    ];

    /// <summary>A 1x1 convolution with bias and <paramref name="act"/> (Clip(0, 6) or none); the median seconds, NaN when filtered out.</summary>
    private static double Pointwise(string name, int c, int hw, int kOut, Activation act, int reps)
    {
        if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return double.NaN;
        var r = new Random(2);
        float[] x = Fill(r, c * hw * hw), w = Fill(r, kOut * c), bias = Fill(r, kOut), y = new float[kOut * hw * hw];
        return Time(name, 2.0 * kOut * c * hw * hw, reps, () => EdgeCompile.Kernels.Conv.Conv2D(x, w, bias, y, 1, c, hw, hw, kOut, 1, 1, hw, hw, 1, 1, 0, 0, 1, 1, 1, act, 0f, 6f));
    }

    /// <summary>MobileNetV2's depthwise 3x3 layers: channels, input size, stride, how many layers have the shape.</summary>
    private static readonly (int C, int Hw, int Stride, int Count)[] MobileNetV2Depthwise =
    [
        (32, 112, 1, 1), (96, 112, 2, 1), (144, 56, 1, 1), (144, 56, 2, 1), (192, 28, 1, 2), (192, 28, 2, 1),
        (384, 14, 1, 4), (576, 14, 1, 2), (576, 14, 2, 1), (960, 7, 1, 3),
    ];

    /// <summary>Depthwise 3x3, pad 1, Clip(0, 6) fused (MobileNetV2's layers); the median seconds, NaN when filtered out.</summary>
    private static double Depthwise(string name, int c, int hw, int stride, int reps)
    {
        if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return double.NaN;
        var r = new Random(2);
        int o = (hw + 2 - 3) / stride + 1;
        float[] x = Fill(r, c * hw * hw), w = Fill(r, c * 9), bias = Fill(r, c), y = new float[c * o * o];
        double flops = 2.0 * c * 9 * o * o;
        return Time(name, flops, reps, () => EdgeCompile.Kernels.Conv.Conv2D(x, w, bias, y, 1, c, hw, hw, c, 3, 3, o, o, stride, stride, 1, 1, 1, 1, c, Activation.Clip, 0f, 6f), c);
    }

    /// <summary>Times <paramref name="run"/> and prints its median (and the median / <paramref name="planes"/> when above 1); returns the median seconds.</summary>
    private static double Time(string name, double flops, int reps, Action run, int planes = 1)
    {
        long w0 = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(w0).TotalMilliseconds < 400) run();
        // Each sample: as many calls as fill ~20 ms, so tiny layers are not timed one call at a time.
        double c0 = ThreadSeconds(); run(); double once = Math.Max(1e-6, ThreadSeconds() - c0);
        int inner = Math.Max(1, (int)(0.02 / once));
        var t = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            double s = ThreadSeconds();
            for (int j = 0; j < inner; j++) run();
            t[i] = (ThreadSeconds() - s) / inner;
        }
        Array.Sort(t);
        double med = t[reps / 2];
        string perPlane = planes > 1 ? string.Create(CultureInfo.InvariantCulture, $" {med * 1e6 / planes,8:F3} µs per plane") : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-44} {med * 1e6,10:F1} µs {flops / med / 1e9,7:F1} GFLOPS{perPlane}"));
        return med;
    }

    private static float[] Fill(Random r, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.NextSingle() * 2 - 1;
        return x;
    }
}

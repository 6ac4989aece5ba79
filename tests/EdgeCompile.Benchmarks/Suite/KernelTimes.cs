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
        Conv("Conv dw 144 56x56 3x3 (MobileNetV2)", 144, 56, 144, 3, 1, 144, reps);
        Conv("Conv dw 96 112x112 3x3/2 (MobileNetV2)", 96, 112, 96, 3, 2, 96, reps);
        Conv("Conv dw 576 14x14 3x3 (MobileNetV2)", 576, 14, 576, 3, 1, 576, reps);
        Conv("Conv dw 32 112x112 3x3 (MobileNetV2)", 32, 112, 32, 3, 1, 32, reps);
        Conv("Conv dw 960 7x7 3x3 (MobileNetV2)", 960, 7, 960, 3, 1, 960, reps);
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

    private static void Conv(string name, int c, int hw, int kOut, int ks, int stride, int group, int reps)
    {
        if (s_only is not null && !name.Contains(s_only, StringComparison.Ordinal)) return;
        var r = new Random(2);
        int pad = ks / 2, o = (hw + 2 * pad - ks) / stride + 1;
        float[] x = Fill(r, c * hw * hw), w = Fill(r, kOut * (c / group) * ks * ks), bias = Fill(r, kOut), y = new float[kOut * o * o];
        double flops = 2.0 * kOut * (c / group) * ks * ks * o * o;
        Time(name, flops, reps, () => EdgeCompile.Kernels.Conv.Conv2D(x, w, bias, y, 1, c, hw, hw, kOut, ks, ks, o, o, stride, stride, pad, pad, 1, 1, group, Activation.Relu, 0f, 0f));
    }

    private static void Time(string name, double flops, int reps, Action run)
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
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-44} {med * 1e6,10:F1} µs {flops / med / 1e9,7:F1} GFLOPS"));
    }

    private static float[] Fill(Random r, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.NextSingle() * 2 - 1;
        return x;
    }
}

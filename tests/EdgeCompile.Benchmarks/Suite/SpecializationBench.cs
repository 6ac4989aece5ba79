using System.Globalization;
using EdgeCompile.Kernels;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// The <c>specialization</c> command: the generated code's layer-specialized <c>Gemm.Run&lt;TLayer&gt;</c> against the
/// general <c>Gemm.Run</c> on the same data, for the dense layers of the tiny MLP and the digits CNN's classifier
/// (the calls where per-call costs matter). Interleaved rounds, median thread-CPU ns per call of each.
/// </summary>
public static class SpecializationBench
{
    private struct Mlp0 : IGemmLayer
    {
        public static int M => 1; public static int K => 64; public static int N => 128;
        public static bool TransA => false; public static bool TransB => true; public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 1; public static int CCols => 128; public static Activation Act => Activation.Relu; public static float P0 => 0f; public static float P1 => 0f;
    }

    private struct Mlp1 : IGemmLayer
    {
        public static int M => 1; public static int K => 128; public static int N => 128;
        public static bool TransA => false; public static bool TransB => true; public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 1; public static int CCols => 128; public static Activation Act => Activation.Relu; public static float P0 => 0f; public static float P1 => 0f;
    }

    private struct Mlp2 : IGemmLayer
    {
        public static int M => 1; public static int K => 128; public static int N => 10;
        public static bool TransA => false; public static bool TransB => true; public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 1; public static int CCols => 10; public static Activation Act => Activation.None; public static float P0 => 0f; public static float P1 => 0f;
    }

    private struct Digits0 : IGemmLayer
    {
        public static int M => 1; public static int K => 32; public static int N => 64;
        public static bool TransA => false; public static bool TransB => true; public static float Alpha => 1f; public static float Beta => 1f;
        public static int CRows => 1; public static int CCols => 64; public static Activation Act => Activation.Relu; public static float P0 => 0f; public static float P1 => 0f;
    }

    public static int Run(string[] args)
    {
        Console.WriteLine("layer (m x k x n, transB, bias, act) | general Gemm.Run ns | Gemm.Run<TLayer> ns | ratio");
        Measure<Mlp0>("tiny MLP fc1");
        Measure<Mlp1>("tiny MLP fc2");
        Measure<Mlp2>("tiny MLP fc3");
        Measure<Digits0>("digits fc1");
        return 0;
    }

    private static void Measure<T>(string name) where T : struct, IGemmLayer
    {
        var r = new Random(3);
        float[] a = Fill(r, T.M * T.K), b = Fill(r, T.K * T.N), c = Fill(r, T.CRows * T.CCols), y = new float[T.M * T.N];
        const int Inner = 20000, Rounds = 21;
        var general = new double[Rounds];
        var special = new double[Rounds];
        for (int round = -3; round < Rounds; round++)
        {
            double t0 = KernelTimes.ThreadSeconds();
            for (int i = 0; i < Inner; i++)
                Gemm.Run(a, b, c, y, T.M, T.K, T.N, T.TransA, T.TransB, T.Alpha, T.Beta, T.CRows, T.CCols, T.Act, T.P0, T.P1);
            double t1 = KernelTimes.ThreadSeconds();
            for (int i = 0; i < Inner; i++) Gemm.Run<T>(a, b, c, y);
            double t2 = KernelTimes.ThreadSeconds();
            if (round < 0) { Thread.Sleep(150); continue; }   // warm-up rounds: reach tier-1 code
            general[round] = (t1 - t0) * 1e9 / Inner;
            special[round] = (t2 - t1) * 1e9 / Inner;
        }
        Array.Sort(general);
        Array.Sort(special);
        double g = general[Rounds / 2], s = special[Rounds / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} ({T.M}x{T.K}x{T.N}, {T.Act}) | {g:F0} | {s:F0} | {s / g:F2}x"));
    }

    private static float[] Fill(Random r, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.NextSingle() * 2 - 1;
        return x;
    }
}

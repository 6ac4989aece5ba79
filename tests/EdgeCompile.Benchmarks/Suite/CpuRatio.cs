using System.Globalization;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// The <c>cpu-ratio</c> command: EdgeCompile float against ONNX Runtime float per model, timed as the calling
/// thread's CPU time (both engines run single-threaded on the calling thread), in interleaved rounds. On a loaded
/// machine the wall-clock report mixes in time spent descheduled; this measures the work each engine does per call
/// (cache interference from other processes remains). A diagnostic next to the report, not a replacement.
/// </summary>
public static class CpuRatio
{
    public static int Run(string[] args)
    {
        string[] names = args.Length == 2 && args[0] == "--models" ? args[1].Split(',') : Catalog.All.Select(m => m.Name).ToArray();
        Console.WriteLine("| Model | EdgeCompile float (thread CPU, median) | ORT float (thread CPU, median) | EdgeCompile / ORT |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var name in names)
        {
            var m = Catalog.Get(name);
            var input = Catalog.Input(m.InputLength);
            var output = new float[m.OutputLength];
            var ours = m.Create();
            using var ort = new OrtRunner(m.OnnxPath, input, m.OutputLength);
            void Ours() => ours.Run(input, output);
            // Calls per sample: about 50 ms of work each.
            double once = Once(Ours), onceOrt = Once(ort.Run);
            int n1 = Math.Max(1, (int)(0.05 / once)), n2 = Math.Max(1, (int)(0.05 / onceOrt));
            const int Rounds = 15;
            var a = new double[Rounds];
            var b = new double[Rounds];
            for (int r = -2; r < Rounds; r++)
            {
                double t0 = KernelTimes.ThreadSeconds();
                for (int i = 0; i < n1; i++) Ours();
                double t1 = KernelTimes.ThreadSeconds();
                for (int i = 0; i < n2; i++) ort.Run();
                double t2 = KernelTimes.ThreadSeconds();
                if (r < 0) continue;
                a[r] = (t1 - t0) / n1;
                b[r] = (t2 - t1) / n2;
            }
            Array.Sort(a);
            Array.Sort(b);
            double x = a[Rounds / 2], y = b[Rounds / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {m.Description} | {Fmt(x)} | {Fmt(y)} | **{x / y:F2}x** |"));
        }
        return 0;
    }

    private static double Once(Action run)
    {
        long w0 = System.Diagnostics.Stopwatch.GetTimestamp();
        int calls = 0;
        while (System.Diagnostics.Stopwatch.GetElapsedTime(w0).TotalMilliseconds < 1500 || calls < 50) { run(); calls++; }   // tier-1 code
        double t0 = KernelTimes.ThreadSeconds();
        for (int i = 0; i < 5; i++) run();
        return Math.Max(1e-7, (KernelTimes.ThreadSeconds() - t0) / 5);
    }

    private static string Fmt(double s) => s >= 1e-3
        ? string.Create(CultureInfo.InvariantCulture, $"{s * 1e3:F2} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{s * 1e6:F2} µs");
}

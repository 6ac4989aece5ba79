using System.Globalization;
using System.Text;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// Thread-CPU medians of the four engines per model (EdgeCompile float and int8, ONNX Runtime float and on our QDQ
/// export), timed as the calling thread's CPU time (every engine runs single-threaded on the calling thread), in
/// interleaved rounds. On a loaded machine the wall-clock report mixes in time spent descheduled; this measures the
/// work each engine does per call (cache interference from other processes remains). The <c>cpu-ratio</c> command
/// prints the table; <c>report</c> publishes it next to the wall-clock one as its cross-check.
/// </summary>
public static class CpuRatio
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Medians in seconds: float, ORT float, int8, ORT on the QDQ export.</summary>
    public sealed record Result(BenchModel Model, double Edge, double Ort, double Int8, double Qdq);

    public static int Run(string[] args)
    {
        string[] names = args.Length == 2 && args[0] == "--models" ? args[1].Split(',') : Catalog.All.Select(m => m.Name).ToArray();
        Console.WriteLine(Table(names.Select(n => Measure(Catalog.Get(n))).ToList()));
        return 0;
    }

    /// <summary>Times the four engines of one model in interleaved rounds (each sample about 50 ms of one engine's calls).</summary>
    public static Result Measure(BenchModel m, int rounds = 15)
    {
        var input = Catalog.Input(m.InputLength);
        var output = new float[m.OutputLength];
        var ours = m.Create();
        var int8 = m.CreateInt8();
        using var ort = new OrtRunner(m.OnnxPath, input, m.OutputLength);
        using var qdq = new OrtRunner(m.Int8Onnx, input, m.OutputLength);
        Action[] engines = [() => ours.Run(input, output), ort.Run, () => int8.Run(input, output), qdq.Run];
        var calls = engines.Select(e => Math.Max(1, (int)(0.05 / Once(e)))).ToArray();
        var samples = engines.Select(_ => new double[rounds]).ToArray();
        for (int r = -2; r < rounds; r++)                     // two discarded rounds
            for (int e = 0; e < engines.Length; e++)
            {
                double t0 = KernelTimes.ThreadSeconds();
                for (int i = 0; i < calls[e]; i++) engines[e]();
                double t = (KernelTimes.ThreadSeconds() - t0) / calls[e];
                if (r >= 0) samples[e][r] = t;
            }
        var med = samples.Select(s => { Array.Sort(s); return s[rounds / 2]; }).ToArray();
        return new Result(m, med[0], med[1], med[2], med[3]);
    }

    public static string Table(IReadOnlyList<Result> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Model | EdgeCompile float | ORT float | float / ORT float | EdgeCompile int8 | ORT on our QDQ export | int8 / ORT QDQ | int8 / ORT float | int8 / EdgeCompile float |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine(string.Create(Inv, $"| {r.Model.Description} | {Fmt(r.Edge)} | {Fmt(r.Ort)} | **{r.Edge / r.Ort:F2}x** | {Fmt(r.Int8)} | {Fmt(r.Qdq)} | **{r.Int8 / r.Qdq:F2}x** | {r.Int8 / r.Ort:F2}x | {r.Int8 / r.Edge:F2}x |"));
        return sb.ToString();
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
        ? string.Create(Inv, $"{s * 1e3:F2} ms")
        : string.Create(Inv, $"{s * 1e6:F2} µs");
}

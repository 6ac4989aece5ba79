using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeCompile.Benchmarks.Compiled;

namespace EdgeCompile.Benchmarks.Compiled
{
    // The Threads="2" variants (metadata Threads, docs/benchmarks.md "Multi-threaded Run").
    public sealed partial class MobilenetV2Threads2 : IFloatModel;
    public sealed partial class Resnet18Threads2 : IFloatModel;
    public sealed partial class MobilenetV2Int8Threads2 : IFloatModel;
    public sealed partial class Resnet18Int8Threads2 : IFloatModel;
    public sealed partial class TransformerEncoderThreads2 : IFloatModel;
}

namespace EdgeCompile.Benchmarks.Suite
{
    /// <summary>
    /// The <c>threads</c> command: median wall-clock latency of one Run for each thread count a model was compiled with
    /// (Threads 1, the suite's classes, and the Threads="N" items of the benchmark project), float and int8, measured in
    /// interleaved rounds, with the speed-up over one thread and the CPU time all threads spend per Run (process CPU: what
    /// the parallel Run costs the machine). Wall clock, not thread CPU: the point of the threads is the latency.
    /// </summary>
    public static class ThreadScaling
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>The compiled variants of one model per precision: (threads, class factory).</summary>
        private static readonly Dictionary<string, (string Precision, (int Threads, Func<IFloatModel> Create)[] Variants)[]> s_variants = new()
        {
            ["mobilenet_v2"] =
            [
                ("float", [(1, () => new MobilenetV2()), (2, () => new MobilenetV2Threads2())]),
                ("int8", [(1, () => new MobilenetV2Int8()), (2, () => new MobilenetV2Int8Threads2())]),
            ],
            ["resnet18"] =
            [
                ("float", [(1, () => new Resnet18()), (2, () => new Resnet18Threads2())]),
                ("int8", [(1, () => new Resnet18Int8()), (2, () => new Resnet18Int8Threads2())]),
            ],
            // Float only: the Int8Dynamic variant's QGemm.RunDequantized is not split yet.
            ["transformer_encoder"] =
            [
                ("float", [(1, () => new TransformerEncoder()), (2, () => new TransformerEncoderThreads2())]),
            ],
        };

        public static int Run(string[] args)
        {
            if (args.Length > 0 && args[0] == "--layers") return Layers(args[1..]);
            string[] names = ["mobilenet_v2", "resnet18", "transformer_encoder"];
            int rounds = 15;
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--models" && i + 1 < args.Length) names = args[++i].Split(',');
                else if (args[i] == "--rounds" && i + 1 < args.Length) rounds = int.Parse(args[++i], Inv);
                else throw new UsageException($"unknown argument '{args[i]}'");
            }
            foreach (var n in names)
                if (!s_variants.ContainsKey(n)) throw new UsageException($"no multi-threaded variants of '{n}' (have: {string.Join(", ", s_variants.Keys)})");
            Console.WriteLine(string.Create(Inv, $"{Environment.ProcessorCount} logical processors; load average before: {LoadAverage()}"));
            var sb = new StringBuilder();
            sb.AppendLine("| Model | Precision | Threads | Median latency | Speed-up | CPU per Run (all threads) |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|");
            foreach (var name in names)
            {
                var m = Catalog.Get(name);
                foreach (var (precision, variants) in s_variants[name])
                {
                    var (wall, cpu) = Measure(m, variants.Select(v => v.Create()).ToArray(), rounds);
                    for (int v = 0; v < variants.Length; v++)
                        sb.AppendLine(string.Create(Inv, $"| {m.Description} | {precision} | {variants[v].Threads} | {wall[v] * 1e3:F2} ms | {(v == 0 ? "1.00x" : $"**{wall[0] / wall[v]:F2}x**")} | {cpu[v] * 1e3:F2} ms |"));
                }
            }
            Console.WriteLine(sb.ToString());
            Console.WriteLine($"load average after: {LoadAverage()}; parts run by worker threads: {WorkerParts()}");
            return 0;
        }

        /// <summary>Medians in seconds of wall clock and of process CPU per Run, each sample about 100 ms of one variant's calls, variants interleaved.</summary>
        private static (double[] Wall, double[] Cpu) Measure(BenchModel m, IFloatModel[] models, int rounds)
        {
            var input = Catalog.Input(m.InputLength);
            var outputs = models.Select(_ => new float[m.OutputLength]).ToArray();
            // Same outputs, bit for bit, whatever the thread count (the kernels' tests prove it per layer; this is the whole model).
            for (int v = 0; v < models.Length; v++) models[v].Run(input, outputs[v]);
            for (int v = 1; v < models.Length; v++)
                if (!outputs[v].AsSpan().SequenceEqual(outputs[0]))
                    throw new InvalidOperationException($"{m.Name}: the {v + 1}th variant's output differs from the single-thread one");
            var calls = new int[models.Length];
            for (int v = 0; v < models.Length; v++)
            {
                var sw = Stopwatch.StartNew();
                int n = 0;
                while (sw.Elapsed.TotalMilliseconds < 1000 || n < 20) { models[v].Run(input, outputs[v]); n++; }   // tier-1 code
                calls[v] = Math.Max(1, (int)(0.1 * n / sw.Elapsed.TotalSeconds));
            }
            var wall = models.Select(_ => new double[rounds]).ToArray();
            var cpu = models.Select(_ => new double[rounds]).ToArray();
            for (int r = -2; r < rounds; r++)                // two discarded rounds
                for (int v = 0; v < models.Length; v++)
                {
                    var c0 = Environment.CpuUsage.TotalTime;
                    long t0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < calls[v]; i++) models[v].Run(input, outputs[v]);
                    double t = Stopwatch.GetElapsedTime(t0).TotalSeconds / calls[v];
                    double c = (Environment.CpuUsage.TotalTime - c0).TotalSeconds / calls[v];
                    if (r >= 0) { wall[v][r] = t; cpu[v][r] = c; }
                }
            static double Median(double[] s) { Array.Sort(s); return s[s.Length / 2]; }
            return (wall.Select(Median).ToArray(), cpu.Select(Median).ToArray());
        }

        /// <summary>
        /// <c>threads --layers model [--int8] [--runs N]</c>: every convolution of the Threads=1 plan, timed serial and split
        /// over 2 threads (whatever its size), in plan order with the other layers run between (realistic caches and gaps);
        /// wall-clock medians. Chooses <c>ParallelCalls.MinMacs</c>.
        /// </summary>
        private static int Layers(string[] args)
        {
            if (args.Length == 0) throw new UsageException("expected --layers <model> [--int8] [--runs N]");
            var m = Catalog.Get(args[0]);
            bool int8 = args.Contains("--int8");
            int runs = args.SkipWhile(a => a != "--runs").Skip(1).Select(a => int.Parse(a, Inv)).FirstOrDefault(31);
            var (calls, _) = LayerProfile.Load(m, int8 ? m.Int8Class : m.Create().GetType().Name, threads: 2);
            Console.WriteLine(string.Create(Inv, $"{m.Name}{(int8 ? " int8" : "")}: load average before: {LoadAverage()}"));
            var serial = new double[calls.Count, runs];
            var parallel = new double[calls.Count, runs];
            for (int w = 0; w < 30; w++) foreach (var c in calls) { c.Run(); c.Parallel?.Invoke(); }
            for (int r = 0; r < runs; r++)
                foreach (var c in calls)
                {
                    // Alternate which runs first: the second finds the layer's data in cache.
                    for (int order = 0; order < 2; order++)
                    {
                        bool split = (order == 0) == (r % 2 == 1);
                        if (split && c.Parallel is null) continue;
                        long t0 = Stopwatch.GetTimestamp();
                        if (split) c.Parallel!(); else c.Run();
                        (split ? parallel : serial)[c.Index, r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                    }
                }
            double Med(double[,] t, int i) { var a = Enumerable.Range(0, runs).Select(r => t[i, r]).ToArray(); Array.Sort(a); return a[runs / 2]; }
            Console.WriteLine("| # | Layer | Kernel | Shape | MACs | 1 thread µs | 2 threads µs | Speed-up |");
            Console.WriteLine("|---:|---|---|---|---:|---:|---:|---:|");
            double s1 = 0, s2 = 0;
            foreach (var c in calls.Where(c => c.Parallel is not null).OrderBy(c => c.Macs))
            {
                double a = Med(serial, c.Index), b = Med(parallel, c.Index);
                s1 += a; s2 += b;
                Console.WriteLine(string.Create(Inv, $"| {c.Index} | {c.Node} | {c.Kernel} | {c.Shape} | {c.Macs / 1e6:F2} M | {a:F1} | {b:F1} | {a / b:F2}x |"));
            }
            Console.WriteLine(string.Create(Inv, $"sum over the convolutions: {s1 / 1000:F2} ms serial, {s2 / 1000:F2} ms on 2 threads; load average after: {LoadAverage()}"));
            return 0;
        }

        /// <summary>The pool's count of parts its workers ran (internal; read by reflection for this diagnostic line).</summary>
        private static long WorkerParts() =>
            (long)(typeof(EdgeCompile.Kernels.Conv).Assembly.GetType("EdgeCompile.Kernels.WorkerPool")!
                .GetProperty("WorkerParts", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null)!);

        private static string LoadAverage()
            => OperatingSystem.IsLinux() && File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using EdgeCompile.Benchmarks.Compiled;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>One compiled variant of a model: unpruned or pruned, float or int8 (EdgeModel items in the project file).</summary>
public sealed record PrunedVariant(string Name, string Model, string Variant, string ClassName, Func<IFloatModel> Create, int InputLength, int OutputLength, string? Baseline);

/// <summary>
/// Pruned against unpruned, single thread, batch 1, all in one BenchmarkDotNet run: the digits sample (trained, so the
/// build measures the accuracy too: see the reports) float and int8 with Channels:0.3, and the random-weight
/// MobileNetV2 and ResNet-18 with Channels:0.3 (structure only: their accuracy means nothing).
/// </summary>
public class PruningBenchmarks
{
    public static readonly PrunedVariant[] All =
    [
        new("digits-float", "digits CNN", "float", nameof(DigitsCnn), () => new DigitsCnn(), DigitsCnn.ImageLength, DigitsCnn.LogitsLength, null),
        new("digits-float-c03", "digits CNN", "float, Channels:0.3", nameof(DigitsCnnPruned), () => new DigitsCnnPruned(), DigitsCnn.ImageLength, DigitsCnn.LogitsLength, "digits-float"),
        new("digits-int8", "digits CNN", "int8", nameof(DigitsCnnInt8), () => new DigitsCnnInt8(), DigitsCnn.ImageLength, DigitsCnn.LogitsLength, null),
        new("digits-int8-c03", "digits CNN", "int8, Channels:0.3", nameof(DigitsCnnPrunedInt8), () => new DigitsCnnPrunedInt8(), DigitsCnn.ImageLength, DigitsCnn.LogitsLength, "digits-int8"),
        new("mobilenet_v2", "MobileNetV2 224", "float", nameof(MobilenetV2), () => new MobilenetV2(), MobilenetV2.InputLength, MobilenetV2.LogitsLength, null),
        new("mobilenet_v2-c03", "MobileNetV2 224", "float, Channels:0.3", nameof(MobilenetV2Pruned), () => new MobilenetV2Pruned(), MobilenetV2.InputLength, MobilenetV2.LogitsLength, "mobilenet_v2"),
        new("resnet18", "ResNet-18 224", "float", nameof(Resnet18), () => new Resnet18(), Resnet18.InputLength, Resnet18.LogitsLength, null),
        new("resnet18-c03", "ResNet-18 224", "float, Channels:0.3", nameof(Resnet18Pruned), () => new Resnet18Pruned(), Resnet18.InputLength, Resnet18.LogitsLength, "resnet18"),
    ];

    public static IEnumerable<string> Variants => All.Select(v => v.Name);

    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = "";

    private IFloatModel _model = null!;
    private float[] _input = [], _output = [];

    [GlobalSetup]
    public void Setup()
    {
        var v = Array.Find(All, x => x.Name == Variant)!;
        _model = v.Create();
        _input = Catalog.Input(v.InputLength);
        _output = new float[v.OutputLength];
    }

    [Benchmark(Description = "EdgeCompile")]
    public void Run() => _model.Run(_input, _output);

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary><c>pruning [--quick] [--no-write]</c>: runs the variants and prints (and writes to docs/benchmarks.md) the table.</summary>
    public static int Command(string[] args)
    {
        bool quick = args.Contains("--quick"), write = !quick && !args.Contains("--no-write");
        foreach (var a in args)
            if (a is not ("--quick" or "--no-write")) throw new UsageException($"unknown option '{a}'.");
        string loadBefore = Machine.LoadAverage();
        var job = quick
            ? Job.Dry.WithToolchain(InProcessEmitToolchain.Instance)
            : Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(5).WithIterationCount(15).WithIterationTime(TimeInterval.FromMilliseconds(250));
        var config = ManualConfig.CreateEmpty().AddJob(job).AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance).AddLogger(ConsoleLogger.Default)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "edgecompile-benchmarks"));
        var summary = BenchmarkRunner.Run<PruningBenchmarks>(config);
        if (summary.HasCriticalValidationErrors || summary.Reports.Length == 0 || summary.Reports.Any(r => !r.Success))
        {
            Console.Error.WriteLine("a benchmark failed (see above)");
            return 1;
        }
        double Median(string name) => summary.Reports.Single(r => (string)r.BenchmarkCase.Parameters["Variant"] == name).ResultStatistics?.Median ?? double.NaN;

        var sb = new StringBuilder();
        sb.Append("| Model | Variant | Median latency | vs unpruned | MACs | vs unpruned | Weight bytes (stored) | vs unpruned |\n");
        sb.Append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var v in All)
        {
            var (macs, stored) = Report(v.ClassName);
            double ns = Median(v.Name);
            string rt = "", rm = "", rw = "";
            if (v.Baseline is { } b)
            {
                var baseline = Array.Find(All, x => x.Name == b)!;
                var (bm, bw) = Report(baseline.ClassName);
                rt = string.Create(Inv, $"**{ns / Median(b):F2}x**");
                rm = string.Create(Inv, $"{(double)macs / bm:F2}x");
                rw = string.Create(Inv, $"{(double)stored / bw:F2}x");
            }
            sb.Append(Inv, $"| {v.Model} | {v.Variant} | {Time(ns)} | {rt} | {macs / 1e6:F2}M | {rm} | {stored} | {rw} |\n");
        }
        string table = sb.ToString();
        string loadAfter = Machine.LoadAverage();
        Console.WriteLine();
        Console.WriteLine(table);
        Console.WriteLine($"load average before: {loadBefore}; after: {loadAfter}");
        if (quick)
        {
            Console.WriteLine($"pruning --quick: {All.Length} variants ran (smoke only; timings of a quick run mean nothing)");
            return 0;
        }
        if (write)
        {
            var machine = Machine.Read();
            string env = string.Create(Inv, $"Measured {DateTime.Now:yyyy-MM-dd} on {machine.Cpu} ({machine.Cores} cores), single thread, batch 1, one BenchmarkDotNet run (medians); load average before {loadBefore}, after {loadAfter}. Command: `dotnet run -c Release --project tests/EdgeCompile.Benchmarks -- pruning`.\n");
            string root = Catalog.Metadata("EdgeCompileRepoRoot");
            SuiteReport.RewriteSection(Path.Combine(root, "docs", "benchmarks.md"), "pruning", env + "\n" + table, "pruning");
            Console.WriteLine("rewrote the pruning section of docs/benchmarks.md");
        }
        return 0;
    }

    /// <summary>MACs and stored weight bytes from the build's report of <paramref name="className"/>.</summary>
    private static (long Macs, long StoredBytes) Report(string className)
    {
        string root = Catalog.Metadata("EdgeCompileOutputDir");
        string path = Directory.GetFiles(root, className + ".report.json", SearchOption.AllDirectories).Single();
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var r = doc.RootElement;
        return (r.GetProperty("macs").GetInt64(), r.GetProperty("storedWeightBytes").GetInt64());
    }

    private static string Time(double ns) => double.IsNaN(ns) ? "n/a" : ns >= 1e6 ? string.Create(Inv, $"{ns / 1e6:F2} ms") : string.Create(Inv, $"{ns / 1e3:F2} µs");
}

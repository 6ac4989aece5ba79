namespace EdgeCompile.Benchmarks;

/// <summary>
/// Entry point: a small command dispatcher so one executable can host several measurements
/// (the BenchmarkDotNet suite runs as the report and quick commands).
/// </summary>
public static class Program
{
    private sealed record Command(string Name, string Usage, string Summary, Func<string[], int> Run, bool Hidden = false);

    private static readonly Command[] Commands =
    [
        new("load-memory", "load-memory [--size-mb N] [--keep] [--max-ratio R]",
            "Generates a ~N MB model (default 300) and measures the peak memory of loading it in a fresh child process.",
            LoadMemory.Run),
        // Internal: the child side of load-memory (started by it, not meant to be run by hand).
        new(LoadMemory.ChildCommand, LoadMemory.ChildCommand + " <model.onnx> --mode zero-copy|decode",
            "Loads one model and reports memory as JSON (child process of load-memory).",
            LoadMemory.RunChild, Hidden: true),
        new("report", "report [--models a,b] [--no-write]",
            "Runs the model suite (EdgeCompile vs ONNX Runtime) and kernel benchmarks with BenchmarkDotNet and rewrites the tables in docs/benchmarks.md and README.md.",
            Suite.SuiteReport.Report),
        new("quick", "quick [--models a,b]",
            "Smoke run of the same suite (one cold iteration each, checks outputs agree, asserts no timings, writes nothing).",
            Suite.SuiteReport.Quick),
        new("pruning", "pruning [--quick] [--no-write]",
            "Pruned (Channels:0.3) against unpruned variants of the digits CNN (float and int8), MobileNetV2 and ResNet-18: latency, MACs, stored weight bytes; rewrites the pruning table in docs/benchmarks.md.",
            Suite.PruningBenchmarks.Command),
        new("profile", "profile <model> [--int8] [--runs N] [--all]",
            "Per-layer timings of the compiled model (each kernel call of its plan timed by hand) next to ONNX Runtime's per-node profile; --int8: the int8 variant against ORT on its QDQ export.",
            Suite.LayerProfile.Run),
        new("kernels", "kernels [--quick] [--filter GLOB]",
            "Only the kernel benchmarks (float GEMM/conv in GFLOPS, int8 QGemm/QConv in GOPS next to the int8 peak); prints the table, writes nothing.",
            Suite.SuiteReport.Kernels),
        new("specialization", "specialization",
            "Layer-specialized Gemm.Run<TLayer> (what the generated code calls) against the general Gemm.Run on the dense layers of the tiny MLP and the digits CNN.",
            Suite.SpecializationBench.Run),
        new("kernel-times", "kernel-times [--reps N] [--only TEXT]",
            "Median time and GFLOPS of the float GEMM/conv kernels on the layer shapes that dominate the models' profiles.",
            Suite.KernelTimes.Run),
        new("int8-kernel-times", "int8-kernel-times [--reps N] [--only TEXT]",
            "Median thread-CPU time, GOPS and % of the measured int8 peak of the int8 kernels (QGemm, QConv, QConv.DepthwiseConv3x3/5x5, QPool.MaxPool2D, QuantizeRowsDynamic) on the layer shapes of the int8 models; --only keeps the rows whose name contains TEXT.",
            Suite.Int8KernelTimes.Run),
        new("cpu-ratio", "cpu-ratio [--models a,b]",
            "EdgeCompile float and int8 against ONNX Runtime float and on our QDQ export, per model, in thread CPU time (interleaved rounds): the per-call work, robust to a loaded machine (the report publishes the same table as its cross-check).",
            Suite.CpuRatio.Run),
        new("threads", "threads [--models mobilenet_v2,resnet18,transformer_encoder] [--rounds N] | threads --layers <model> [--int8] [--runs N]",
            "Multi-threaded Run (metadata Threads): median wall-clock latency of the Threads=1 and Threads=2 classes, float and int8, interleaved rounds; speed-up and CPU per Run of all threads. --layers: each convolution serial and on 2 threads (chooses the size threshold).",
            Suite.ThreadScaling.Run),
        // Internal: the child side of report/quick's process peak memory column.
        new(Suite.SuiteReport.PeakCommand, Suite.SuiteReport.PeakCommand + " <model> edgecompile|edgecompile-int8|ort --runs N",
            "Runs one model with one engine and prints the process peak RSS (child process of report).",
            Suite.SuiteReport.MeasurePeakChild, Hidden: true),
    ];

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        var command = Array.Find(Commands, c => c.Name == args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"Unknown command '{args[0]}'.");
            PrintUsage(Console.Error);
            return 2;
        }
        try
        {
            return command.Run(args[1..]);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{command.Name}: {e.Message}");
            Console.Error.WriteLine($"usage: {command.Usage}");
            return 2;
        }
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("usage: EdgeCompile.Benchmarks <command> [options]");
        w.WriteLine();
        foreach (var c in Commands)
            if (!c.Hidden) w.WriteLine($"  {c.Usage}\n      {c.Summary}");
    }
}

/// <summary>A bad command line (reported with the command's usage, exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);

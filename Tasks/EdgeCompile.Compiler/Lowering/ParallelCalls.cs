using System.Globalization;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Kernels;

namespace EdgeCompile.Compiler.Lowering;

/// <summary>
/// Metadata <c>Threads</c> (docs/benchmarks.md, "Multi-threaded Run"): after lowering, the convolutions large enough to
/// split (<see cref="MinMacs"/>, one image, group 1 or depthwise) call their multi-threaded entry instead
/// (<c>Conv.Conv2DParallel</c>, <c>QConv.Conv2DParallel</c>, <c>QConv.DepthwiseConv3x3Parallel</c>/<c>5x5Parallel</c>: the
/// same arguments plus the thread count, and for <c>QConv.Conv2DParallel</c> one arena region of threads - 1 extra scratch
/// slices, shared by every such layer since calls run one after the other), and the float products with at least 32 rows
/// (<c>Gemm.RunParallel</c>, rows) or a batch (<c>Gemm.MatMulParallel</c>, whole matrices). Nothing else changes: the plan's other lines,
/// the weights and the build-time accuracy (measured on the serial plan, which computes the same bytes) stay as they are,
/// and Threads 1 leaves the plan untouched.
/// </summary>
public static class ParallelCalls
{
    /// <summary>
    /// Multiply-adds under which a convolution stays on the calling thread: handing a part to a worker costs microseconds
    /// (publishing, waking or catching a spinning worker, the part's cache misses). Measured per layer in docs/benchmarks.md,
    /// "Multi-threaded Run".
    /// </summary>
    public const long MinMacs = 1_000_000;

    /// <summary>
    /// The int8 depthwise kernels' threshold: their per-channel work (padded planes, requantization constants) makes even
    /// MobileNetV2's 0.25 M multiply-add layers 1.25-1.8x faster on 2 threads, where float layers under 0.5 M were not faster.
    /// </summary>
    public const long MinMacsInt8Depthwise = 250_000;

    /// <summary>The largest Threads value accepted.</summary>
    public const int MaxThreads = 64;

    /// <summary>Threads metadata: empty means 1; else an integer 1..<see cref="MaxThreads"/> (EDGE2001 otherwise).</summary>
    public static int Parse(string text)
    {
        if (text is not { Length: > 0 }) return 1;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int t) && t >= 1 && t <= MaxThreads ? t
            : throw new EdgeException(EdgeCodes.InvalidMetadata,
                $"Threads '{text}' is not a thread count between 1 and {MaxThreads} (1, the default, runs each Run on the calling thread alone).");
    }

    /// <summary>The model with its large convolutions calling the multi-threaded kernels; <paramref name="model"/> itself for 1 thread.</summary>
    public static CompiledModel Apply(CompiledModel model, int threads)
    {
        if (threads <= 1) return model;
        long extraAt = ArenaPlanner.Align(model.ArenaBytes), extraBytes = 0;
        var calls = new List<(KernelCall Call, BufferRef?[] Buffers)>(model.Calls.Count);
        var parts = new List<(int Index, KernelCall Call, BufferRef?[] Buffers)>();
        foreach (var (call, buffers) in model.Calls)
        {
            int[] a = call.Args.Select(x => x is CallArg.Int i ? (int)i.V : 0).ToArray();
            switch (call.Method)
            {
                // Conv.Conv2D(x, w, b, y, n, c, h, width, k, kh, kw, oh, ow, ...12 group=19, act, p0, p1)
                case "Conv.Conv2D" when a[4] == 1 && (a[19] == 1 || (a[19] == a[5] && a[8] == a[5]))
                                        && (long)a[8] * a[11] * a[12] * (a[5] / a[19]) * a[9] * a[10] >= MinMacs:
                    calls.Add(With(call, buffers, "Conv.Conv2DParallel", threads));
                    continue;
                // QConv.Conv2D(x, xZero, w, b, y, scratch, n=6, c, h, width, k=10, kh, kw, oh, ow, sH, sW, pT, pL, dH, dW, group=21, ...)
                case "QConv.Conv2D" when a[6] == 1 && a[21] == 1 && (long)a[10] * a[13] * a[14] * a[7] * a[11] * a[12] >= MinMacs:
                {
                    int extra = QConv.PartScratchLength(a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], 1, threads);
                    extraBytes = Math.Max(extraBytes, extra);
                    var (c, b) = With(call, buffers, "QConv.Conv2DParallel", threads);
                    parts.Add((calls.Count, c, b));
                    calls.Add((c, b));
                    continue;
                }
                // Gemm.Run(a, b, c, y, m=4, k, n, transA=7, ...): rows split at Gemm.RowUnit (16), so at least two units.
                case "Gemm.Run" when call.Args[7] is CallArg.Bool { V: false } && a[4] >= 32 && (long)a[4] * a[5] * a[6] >= MinMacs:
                    calls.Add(With(call, buffers, "Gemm.RunParallel", threads));
                    continue;
                // Gemm.MatMul(a, b, y, batch=3, m, k, n, aStride, bStride): whole matrices per part.
                case "Gemm.MatMul" when a[3] >= 2 && (long)a[3] * a[4] * a[5] * a[6] >= MinMacs:
                    calls.Add(With(call, buffers, "Gemm.MatMulParallel", threads));
                    continue;
                // QConv.DepthwiseConv3x3/5x5(x, xZero, w, b, y, n=5, c, h, width, oh=9, ow, ...)
                case "QConv.DepthwiseConv3x3" or "QConv.DepthwiseConv5x5" when a[5] == 1
                        && (long)a[6] * a[9] * a[10] * (call.Method.EndsWith("3x3", StringComparison.Ordinal) ? 9 : 25) >= MinMacsInt8Depthwise:
                    calls.Add(With(call, buffers, call.Method + "Parallel", threads));
                    continue;
                default:
                    calls.Add((call, buffers));
                    continue;
            }
        }
        long arenaBytes = model.ArenaBytes;
        if (parts.Count > 0)
        {
            arenaBytes = extraAt + extraBytes;
            if (arenaBytes > int.MaxValue)
                throw new EdgeException(EdgeCodes.LimitExceeded, $"The activation arena with the scratch of {threads} threads would need {arenaBytes} bytes, over the 2 GiB a generated class can address.");
            // QConv.Conv2DParallel's partScratch, then the thread count (With put a placeholder before it).
            foreach (var (index, call, buffers) in parts)
            {
                var args = call.Args.ToList();
                args.Insert(args.Count - 1, new CallArg.Value("__parallel_scratch", Write: true));
                var bufs = buffers.ToList();
                bufs.Insert(bufs.Count - 1, new BufferRef.Arena(extraAt, DataType.UInt8, (int)extraBytes));
                calls[index] = (call with { Args = args }, bufs.ToArray());
            }
        }
        var result = new CompiledModel
        {
            ClassName = model.ClassName,
            Namespace = model.Namespace,
            Model = model.Model,
            Inputs = model.Inputs,
            Outputs = model.Outputs,
            Calls = calls,
            Weights = model.Weights,
            ArenaBytes = arenaBytes,
            Parameters = model.Parameters,
            Macs = model.Macs,
            Layers = model.Layers,
            CompressWeights = model.CompressWeights,
        };
        result.Sections.AddRange(model.Sections);
        result.ResourceName = model.ResourceName;
        return result;
    }

    private static (KernelCall, BufferRef?[]) With(KernelCall call, BufferRef?[] buffers, string method, int threads)
        => (call with { Method = method, Args = [.. call.Args, new CallArg.Int(threads)] }, [.. buffers, null]);
}

using System.Runtime.InteropServices;
using EdgeCompile.Kernels;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>
/// Runs a lowered plan (<see cref="CompiledModel.Calls"/>) at build time with the real kernels, the way the generated
/// class does: same arena layout, same weight blob, same arguments. Used for the build-time accuracy of int8 plans.
/// Covers the int8 kernels, the Quantize/Dequantize edges, <c>Data.Copy</c>/<c>Data.CopyBlocks</c>/<c>Data.StridedCopy</c>
/// (any element type), the Int8Dynamic/Int8WeightOnly kernels, and the float kernels int8 plans fall back to (<c>Elementwise.Binary</c>/<c>Unary</c>
/// on float32, <c>Pool.*</c>, <c>Gemm.Run</c>/<c>MatMul</c>, <c>Conv.Conv2D</c>, <c>Normalization.Softmax</c>/<c>LayerNorm</c>); a plan with other calls throws
/// <see cref="NotSupportedException"/> (<see cref="CanRun"/> tells beforehand).
/// </summary>
public sealed class PlanInterpreter
{
    private readonly CompiledModel _model;
    private readonly byte[] _arena;

    public PlanInterpreter(CompiledModel model)
    {
        _model = model;
        _arena = new byte[checked((int)model.ArenaBytes)];
    }

    /// <summary>True when every call of the plan is one this interpreter runs.</summary>
    public static bool CanRun(CompiledModel model) => model.Calls.All(c => Supported.Contains(c.Call.Method)
        && (!c.Call.Method.StartsWith("Elementwise.", StringComparison.Ordinal) || c.Buffers[1]?.Type == DataType.Float));

    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "QLinear.Quantize", "QLinear.Dequantize", "QConv.Conv2D", "QConv.DepthwiseConv3x3", "QConv.DepthwiseConv5x5", "QGemm.Run", "QElementwise.Add",
        "QPool.MaxPool2D", "QPool.AveragePool2D", "QPool.GlobalAveragePool", "Data.Copy", "Data.CopyBlocks", "Data.StridedCopy",
        // Int8Dynamic and Int8WeightOnly
        "QLinear.QuantizeRowsDynamic", "QGemm.RunDequantized", "QLinear.DequantizeChannels",
        // float32 fallbacks
        "Elementwise.Binary", "Elementwise.Unary", "Pool.MaxPool2D", "Pool.AveragePool2D", "Pool.GlobalAverage", "Pool.GlobalMax",
        "Gemm.Run", "Gemm.MatMul", "Conv.Conv2D", "Normalization.Softmax", "Normalization.LayerNorm",
    };


    /// <summary>The arena, as the last call left it (for per-layer probes).</summary>
    public ReadOnlySpan<byte> Arena => _arena;

    /// <summary>The bytes of a buffer (input/output arrays, arena or weights) after the last run.</summary>
    public ReadOnlySpan<byte> Bytes(BufferRef b, IReadOnlyList<Array> inputs, IReadOnlyList<Array> outputs) => Span(b, inputs, outputs);

    /// <summary>Runs the plan: <paramref name="inputs"/> and <paramref name="outputs"/> are arrays of the parameters' CLR types.</summary>
    public void Run(IReadOnlyList<Array> inputs, IReadOnlyList<Array> outputs, Action<int>? afterCall = null)
    {
        for (int ci = 0; ci < _model.Calls.Count; ci++)
        {
            var (call, bufs) = _model.Calls[ci];
            var args = call.Args;
            Span<byte> B(int i) => Span(bufs[i]!, inputs, outputs);
            ReadOnlySpan<int> Ints(int i) => args[i] switch
            {
                CallArg.Ints v => v.V,
                CallArg.Empty => ReadOnlySpan<int>.Empty,
                _ => MemoryMarshal.Cast<byte, int>(B(i)),
            };
            ReadOnlySpan<int> OptI32(int i) => args[i] is CallArg.Empty ? ReadOnlySpan<int>.Empty : MemoryMarshal.Cast<byte, int>(B(i));
            int I(int i) => checked((int)((CallArg.Int)args[i]).V);
            float F(int i) => ((CallArg.Float)args[i]).V;
            bool Bo(int i) => ((CallArg.Bool)args[i]).V;
            TEnum En<TEnum>(int i) where TEnum : struct, Enum =>
                Enum.Parse<TEnum>(((CallArg.Enum)args[i]).TypeAndMember[(((CallArg.Enum)args[i]).TypeAndMember.LastIndexOf('.') + 1)..]);
            Span<float> Fl(int i) => MemoryMarshal.Cast<byte, float>(B(i));
            // The packed weights' layout (the last argument of the n8k4 kernels; plans from before it existed packed the sums).
            QWeightLayout Layout(int i) => i < args.Count ? En<QWeightLayout>(i) : QWeightLayout.N8K4Sums;
            ReadOnlySpan<float> OptF(int i) => args[i] is CallArg.Empty ? ReadOnlySpan<float>.Empty : Fl(i);
            int Size(int i) => bufs[i]!.Type == DataType.Bool ? 1 : bufs[i]!.Type.ElementSize();
            switch (call.Method)
            {
                case "QLinear.Quantize":
                    QLinear.Quantize(MemoryMarshal.Cast<byte, float>(B(0)), B(1), F(2), I(3));
                    break;
                case "QLinear.Dequantize":
                    QLinear.Dequantize(B(0), MemoryMarshal.Cast<byte, float>(B(1)), F(2), I(3));
                    break;
                case "QConv.Conv2D":
                    QConv.Conv2D(B(0), I(1), MemoryMarshal.Cast<byte, sbyte>(B(2)), OptI32(3), B(4), B(5),
                        I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15), I(16), I(17), I(18), I(19), I(20), I(21),
                        Ints(22), Ints(23), I(24), I(25), I(26), Layout(27));
                    break;
                case "QGemm.Run":
                    QGemm.Run(B(0), I(1), MemoryMarshal.Cast<byte, sbyte>(B(2)), OptI32(3), B(4), I(5), I(6), I(7), Ints(8), Ints(9), I(10), I(11), I(12), Layout(13));
                    break;
                case "QPool.MaxPool2D":
                    QPool.MaxPool2D(B(0), B(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15));
                    break;
                case "QPool.GlobalAveragePool":
                    QPool.GlobalAveragePool(B(0), I(1), B(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9));
                    break;
                case "QConv.DepthwiseConv3x3":
                    QConv.DepthwiseConv3x3(B(0), I(1), MemoryMarshal.Cast<byte, sbyte>(B(2)), OptI32(3), B(4),
                        I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), Ints(14), Ints(15), I(16), I(17), I(18));
                    break;
                case "QConv.DepthwiseConv5x5":
                    QConv.DepthwiseConv5x5(B(0), I(1), MemoryMarshal.Cast<byte, sbyte>(B(2)), OptI32(3), B(4),
                        I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), Ints(14), Ints(15), I(16), I(17), I(18));
                    break;
                case "QElementwise.Add":
                    QElementwise.Add(B(0), I(1), I(2), B(3), I(4), I(5), I(6), B(7), I(8), I(9), I(10));
                    break;
                case "QPool.AveragePool2D":
                    QPool.AveragePool2D(B(0), I(1), B(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15), I(16),
                        Bo(17), I(18), I(19), I(20), I(21), I(22));
                    break;
                case "QLinear.QuantizeRowsDynamic":
                    QLinear.QuantizeRowsDynamic(Fl(0), B(1), Fl(2), MemoryMarshal.Cast<byte, int>(B(3)), I(4), I(5));
                    break;
                case "QGemm.RunDequantized":
                    QGemm.RunDequantized(B(0), Ints(1), Fl(2), MemoryMarshal.Cast<byte, sbyte>(B(3)), Fl(4), OptF(5), Fl(6), I(7), I(8), I(9), Layout(10));
                    break;
                case "QLinear.DequantizeChannels":
                    QLinear.DequantizeChannels(MemoryMarshal.Cast<byte, sbyte>(B(0)), Fl(1), Fl(2), I(3), I(4), I(5));
                    break;
                case "Gemm.Run":
                    Gemm.Run(Fl(0), Fl(1), OptF(2), Fl(3), I(4), I(5), I(6), Bo(7), Bo(8), F(9), F(10), I(11), I(12), En<Activation>(13), F(14), F(15));
                    break;
                case "Gemm.MatMul":
                    Gemm.MatMul(Fl(0), Fl(1), Fl(2), I(3), I(4), I(5), I(6), I(7), I(8));
                    break;
                case "Conv.Conv2D":
                    Conv.Conv2D(Fl(0), Fl(1), OptF(2), Fl(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15), I(16), I(17), I(18), I(19),
                        En<Activation>(20), F(21), F(22));
                    break;
                case "Normalization.Softmax":
                    Normalization.Softmax(Fl(0), Fl(1), I(2), I(3), I(4), Bo(5));
                    break;
                case "Normalization.LayerNorm":
                    Normalization.LayerNorm(Fl(0), Fl(1), OptF(2), Fl(3), I(4), I(5), F(6));
                    break;
                case "Data.Copy":
                    B(0).CopyTo(B(1));
                    break;
                case "Data.CopyBlocks":
                    {
                        // Element type only scales the byte counts: the copy is the same bytes.
                        int e = Size(0);
                        EdgeCompile.Kernels.Data.CopyBlocks<byte>(B(0), B(1), I(2), I(3) * e, I(4) * e, I(5) * e);
                        break;
                    }
                case "Data.StridedCopy":
                    switch (bufs[0]!.Type.ElementSize())
                    {
                        case 1: EdgeCompile.Kernels.Data.StridedCopy<byte>(B(0), B(1), I(2), Ints(3), Ints(4)); break;
                        case 2: EdgeCompile.Kernels.Data.StridedCopy(MemoryMarshal.Cast<byte, short>(B(0)), MemoryMarshal.Cast<byte, short>(B(1)), I(2), Ints(3), Ints(4)); break;
                        case 4: EdgeCompile.Kernels.Data.StridedCopy(MemoryMarshal.Cast<byte, int>(B(0)), MemoryMarshal.Cast<byte, int>(B(1)), I(2), Ints(3), Ints(4)); break;
                        case 8: EdgeCompile.Kernels.Data.StridedCopy(MemoryMarshal.Cast<byte, long>(B(0)), MemoryMarshal.Cast<byte, long>(B(1)), I(2), Ints(3), Ints(4)); break;
                        default: throw new NotSupportedException($"Data.StridedCopy of {bufs[0]!.Type}");
                    }
                    break;
                case "Elementwise.Binary" when bufs[1]!.Type == DataType.Float:
                    Elementwise.Binary(En<BinaryOp>(0), Fl(1), Fl(2), Fl(3), Ints(4), Ints(5), Ints(6));
                    break;
                case "Elementwise.Unary" when bufs[1]!.Type == DataType.Float:
                    Elementwise.Unary(En<UnaryOp>(0), Fl(1), Fl(2), F(3), F(4));
                    break;
                case "Pool.MaxPool2D":
                    Pool.MaxPool2D(Fl(0), Fl(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15));
                    break;
                case "Pool.AveragePool2D":
                    Pool.AveragePool2D(Fl(0), Fl(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15), Bo(16));
                    break;
                case "Pool.GlobalAverage":
                    Pool.GlobalAverage(Fl(0), Fl(1), I(2), I(3));
                    break;
                case "Pool.GlobalMax":
                    Pool.GlobalMax(Fl(0), Fl(1), I(2), I(3));
                    break;
                default:
                    throw new NotSupportedException($"The plan interpreter does not run {call.Method} (node {call.NodeName}).");
            }
            afterCall?.Invoke(ci);
        }
    }

    private Span<byte> Span(BufferRef b, IReadOnlyList<Array> inputs, IReadOnlyList<Array> outputs)
    {
        int size = b.Type == DataType.Bool ? 1 : b.Type.ElementSize();
        return b switch
        {
            BufferRef.Input i => AsBytes(inputs[i.Index]),
            BufferRef.Output o => AsBytes(outputs[o.Index]),
            BufferRef.Arena a => _arena.AsSpan(checked((int)a.ByteOffset), checked(a.Count * size)),
            BufferRef.Weight w => _model.Weights.AsSpan(checked((int)w.ByteOffset), checked(w.Count * size)),
            _ => throw new InvalidOperationException(),
        };
    }

    private static Span<byte> AsBytes(Array a) => a switch
    {
        float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
        byte[] u => u,
        sbyte[] s => MemoryMarshal.AsBytes(s.AsSpan()),
        int[] i => MemoryMarshal.AsBytes(i.AsSpan()),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
        _ => throw new NotSupportedException($"The plan interpreter does not take {a.GetType().Name} parameters."),
    };
}

using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using EdgeCompile.Compiler.Operators.Common;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;
using ExecutionContext = EdgeCompile.Compiler.Operators.ExecutionContext;

namespace EdgeCompile.Tests.Operators;

/// <summary>Semantics of the MatMul group that the ONNX conformance data does not cover.</summary>
public class MatMulTests
{
    private static Node MakeNode(string op, int inputs, params Attribute[] attrs) => new()
    {
        OpType = op,
        Inputs = Enumerable.Range(0, inputs).Select(i => $"in{i}").ToList(),
        Outputs = ["out"],
        Attributes = attrs.ToList(),
    };

    private static Attribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, I = v };
    private static Attribute Str(string name, string v) => new() { Name = name, Kind = AttributeKind.String, S = System.Text.Encoding.UTF8.GetBytes(v) };
    private static Attribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };

    private static Tensor Run(Operator op, Node node, long opset, params Tensor?[] inputs)
    {
        var ctx = new ExecutionContext(node, opset, inputs);
        op.Execute(ctx);
        return ctx.Outputs[0]!;
    }

    private static ValueType? Infer(Operator op, Node node, long opset, ValueType?[] types, Tensor?[]? constants = null)
    {
        var ctx = new InferenceContext(node, opset,
            name => int.TryParse(name.AsSpan(2), out int i) && i < types.Length ? types[i] : null,
            name => constants is not null && int.TryParse(name.AsSpan(2), out int i) && i < constants.Length ? constants[i] : null);
        op.InferTypes(ctx);
        return ctx.Outputs[0];
    }

    private static string CodeOf(Action a) => Assert.Throws<EdgeException>(a).Code;

    [Fact]
    public void RoundHalfEvenSaturates()
    {
        Assert.Equal(2, MatMulHelpers.RoundHalfEvenSaturate(2.5, DataType.UInt8));
        Assert.Equal(4, MatMulHelpers.RoundHalfEvenSaturate(3.5, DataType.UInt8));
        Assert.Equal(-2, MatMulHelpers.RoundHalfEvenSaturate(-2.5, DataType.Int8));
        Assert.Equal(255, MatMulHelpers.RoundHalfEvenSaturate(300.2, DataType.UInt8));
        Assert.Equal(-128, MatMulHelpers.RoundHalfEvenSaturate(-1e30, DataType.Int8));
        Assert.Equal(65535, MatMulHelpers.RoundHalfEvenSaturate(1e9, DataType.UInt16));
    }

    [Fact]
    public void QuantizeBlockedWithShortLastBlock()
    {
        // x [1, 5], block_size 2 along axis 1: scales [1, 3], the last block holds one element.
        var x = Tensor.FromArray(new[] { 2f, 4f, 6f, 8f, 10f }, 1, 5);
        var scale = Tensor.FromArray(new[] { 2f, 4f, 5f }, 1, 3);
        var zp = Tensor.FromArray(new byte[] { 0, 10, 100 }, 1, 3);
        var y = Run(new QuantizeLinear(), MakeNode("QuantizeLinear", 3, Int("axis", 1), Int("block_size", 2)), 21, x, scale, zp);
        Assert.Equal(new byte[] { 1, 2, 12, 12, 102 }, y.As<byte>()); // 6/4 = 1.5 → 2 (ties to even), 10/5 = 2
    }

    [Fact]
    public void QuantizeBadBlockedScaleShapeIsCodedError()
    {
        var x = Tensor.FromArray(new float[6], 2, 3);
        var scale = Tensor.FromArray(new float[4], 2, 2);
        Assert.Equal(EdgeCodes.ShapeMismatch,
            CodeOf(() => Run(new QuantizeLinear(), MakeNode("QuantizeLinear", 2, Int("axis", 0), Int("block_size", 1)), 21, x, scale)));
    }

    [Fact]
    public void QuantizeOutputDtypeMustMatchZeroPoint()
    {
        var node = MakeNode("QuantizeLinear", 3, Int("output_dtype", (long)DataType.Int8));
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run(new QuantizeLinear(), node, 21,
            Tensor.FromArray(new[] { 1f }, 1), Tensor.Scalar(1f), Tensor.Scalar((byte)0))));
    }

    [Fact]
    public void QuantizeWithoutZeroPointUsesOutputDtype()
    {
        var y = Run(new QuantizeLinear(), MakeNode("QuantizeLinear", 2, Int("output_dtype", (long)DataType.Int16)), 21,
            Tensor.FromArray(new[] { -1e6f, 5f, 1e6f }, 3), Tensor.Scalar(2f));
        Assert.Equal(new short[] { short.MinValue, 2, short.MaxValue }, y.As<short>());
    }

    [Fact]
    public void DequantizeUnsignedValuesAboveSignedRange()
    {
        var y = Run(new DequantizeLinear(), MakeNode("DequantizeLinear", 3), 21,
            Tensor.FromArray(new ushort[] { 0, 40000, 65535 }, 3), Tensor.Scalar(0.5f), Tensor.Scalar((ushort)32768));
        Assert.Equal(new[] { -16384f, 3616f, 16383.5f }, y.As<float>());
    }

    [Fact]
    public void MatMulIntegerPerRowAndPerColumnZeroPoints()
    {
        var a = Tensor.FromArray(new byte[] { 10, 11, 200, 201 }, 2, 2);
        var b = Tensor.FromArray(new sbyte[] { 1, 2, 3, 4 }, 2, 2);
        var azp = Tensor.FromArray(new byte[] { 10, 200 }, 2);  // per row of A
        var bzp = Tensor.FromArray(new sbyte[] { 1, 2 }, 2);   // per column of B
        var y = Run(new MatMulInteger(), MakeNode("MatMulInteger", 4), 10, a, b, azp, bzp);
        // A - azp = [[0,1],[0,1]], B - bzp = [[0,0],[2,2]]
        Assert.Equal(new[] { 2, 2, 2, 2 }, y.As<int>());
    }

    [Fact]
    public void MatMulUnsignedAndOneDimensional()
    {
        var a = Tensor.FromArray(new uint[] { 3_000_000_000, 1 }, 2);
        var b = Tensor.FromArray(new uint[] { 1, 5 }, 2, 1);
        var y = Run(new MatMul(), MakeNode("MatMul", 2), 13, a, b);
        Assert.Equal(new[] { 1 }, y.Shape);
        Assert.Equal(3_000_000_005u, y.As<uint>()[0]);
    }

    [Fact]
    public void MatMulInfersSymbolicBatchAndRejectsInnerMismatch()
    {
        var n = Dim.Symbol("N");
        var t = Infer(new MatMul(), MakeNode("MatMul", 2), 13,
            [new ValueType(DataType.Float, [n, Dim.Unknown, 3]), new ValueType(DataType.Float, [Dim.Known(3)])]);
        Assert.Equal(new[] { n, Dim.Unknown }, t!.Shape);
        Assert.Equal(EdgeCodes.ShapeMismatch, CodeOf(() => Infer(new MatMul(), MakeNode("MatMul", 2), 13,
            [new ValueType(DataType.Float, [Dim.Known(2), Dim.Known(3)]), new ValueType(DataType.Float, [Dim.Known(4), Dim.Known(5)])])));
    }

    [Fact]
    public void GemmRejectsNonBroadcastableC()
    {
        var a = Tensor.FromArray(new float[6], 2, 3);
        var b = Tensor.FromArray(new float[12], 3, 4);
        var c = Tensor.FromArray(new float[3], 3);
        Assert.Equal(EdgeCodes.ShapeMismatch, CodeOf(() => Run(new Gemm(), MakeNode("Gemm", 3), 13, a, b, c)));
    }

    [Fact]
    public void EinsumImplicitOutputAndTrace()
    {
        var a = Tensor.FromArray(new[] { 1.0, 2, 3, 4 }, 2, 2);
        var b = Tensor.FromArray(new[] { 5.0, 6, 7, 8 }, 2, 2);
        var ab = Run(new Einsum(), MakeNode("Einsum", 2, Str("equation", "ij,jk")), 12, a, b);
        Assert.Equal(new[] { 19.0, 22, 43, 50 }, ab.As<double>());
        var trace = Run(new Einsum(), MakeNode("Einsum", 1, Str("equation", "ii")), 12, a);
        Assert.Empty(trace.Shape);
        Assert.Equal(5.0, trace.As<double>()[0]);
        // Implicit output is sorted: "ba" (no arrow) means "ba->ab", a transpose.
        var tr = Run(new Einsum(), MakeNode("Einsum", 1, Str("equation", "ba")), 12, a);
        Assert.Equal(new[] { 1.0, 3, 2, 4 }, tr.As<double>());
    }

    [Fact]
    public void EinsumEllipsisBroadcastsBatchDims()
    {
        // a [2, 1, 2] x b [1, 2] under "...j,j->..." : the ellipsis dims [2, 1] and [1] broadcast to [2, 1].
        var a = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 2, 1, 2);
        var b = Tensor.FromArray(new[] { 10f, 100f }, 2);
        var y = Run(new Einsum(), MakeNode("Einsum", 2, Str("equation", "...j,j->...")), 12, a, b);
        Assert.Equal(new[] { 2, 1 }, y.Shape);
        Assert.Equal(new[] { 210f, 430f }, y.As<float>());
        var t = Infer(new Einsum(), MakeNode("Einsum", 2, Str("equation", "...j,j")), 12,
            [new ValueType(DataType.Float, [Dim.Symbol("B"), Dim.Known(1), Dim.Known(2)]), new ValueType(DataType.Float, [Dim.Known(2)])]);
        Assert.Equal(new[] { Dim.Symbol("B"), Dim.Known(1) }, t!.Shape);
    }

    [Fact]
    public void EinsumBadEquationIsCodedError()
    {
        var a = Tensor.FromArray(new[] { 1f, 2f }, 2);
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run(new Einsum(), MakeNode("Einsum", 1, Str("equation", "i->j")), 12, a)));
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run(new Einsum(), MakeNode("Einsum", 1, Str("equation", "i,i->")), 12, a)));
        Assert.Equal(EdgeCodes.ShapeMismatch, CodeOf(() => Run(new Einsum(), MakeNode("Einsum", 1, Str("equation", "ij->i")), 12, a)));
    }

    [Fact]
    public void ResizeInfersShapeFromConstantSizesWithAspectPolicy()
    {
        var node = MakeNode("Resize", 4, Ints("axes", 2, 3), Str("keep_aspect_ratio_policy", "not_larger"));
        node.Inputs[1] = ""; node.Inputs[2] = "";
        var sizes = Tensor.FromArray(new long[] { 7, 8 }, 2);
        var t = Infer(new Resize(), node, 19,
            [new ValueType(DataType.Float, [Dim.Symbol("N"), Dim.Known(3), Dim.Known(4), Dim.Known(2)]), null, null, new ValueType(DataType.Int64, [Dim.Known(2)])],
            [null, null, null, sizes]);
        // scale = min(7/4, 8/2) = 1.75: out = round(1.75 * 4), round(1.75 * 2) = 7, 4 (3.5 rounds half up).
        Assert.Equal(new[] { Dim.Symbol("N"), Dim.Known(3), Dim.Known(7), Dim.Known(4) }, t!.Shape);
    }

    [Fact]
    public void ResizeRejectsUnknownModeAndBothScalesAndSizes()
    {
        var x = Tensor.FromArray(new float[4], 1, 1, 2, 2);
        var scales = Tensor.FromArray(new[] { 1f, 1f, 2f, 2f }, 4);
        var sizes = Tensor.FromArray(new long[] { 1, 1, 4, 4 }, 4);
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run(new Resize(), MakeNode("Resize", 3, Str("mode", "bicubic")), 13, x, null, scales)));
        Assert.Equal(EdgeCodes.InvalidArity, CodeOf(() => Run(new Resize(), MakeNode("Resize", 4), 13, x, null, scales, sizes)));
    }
}

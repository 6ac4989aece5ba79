using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;
using ExecutionContext = EdgeCompile.Compiler.Operators.ExecutionContext;

namespace EdgeCompile.Tests.Operators;

/// <summary>Semantics of the convolution and pooling group that the ONNX conformance data does not pin down.</summary>
public class ConvTests
{
    private static Node MakeNode(string opType, int inputs, int outputs, params Attribute[] attrs) => new()
    {
        OpType = opType,
        Inputs = Enumerable.Range(0, inputs).Select(i => $"in{i}").ToList(),
        Outputs = Enumerable.Range(0, outputs).Select(i => $"out{i}").ToList(),
        Attributes = attrs.ToList(),
    };

    private static Attribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };
    private static Attribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, I = v };
    private static Attribute Str(string name, string v) => new() { Name = name, Kind = AttributeKind.String, S = System.Text.Encoding.UTF8.GetBytes(v) };

    private static IReadOnlyList<Tensor?> Run(string opType, Attribute[] attrs, int outputs, params Tensor[] inputs) =>
        RunAt(22, opType, attrs, outputs, inputs);

    private static IReadOnlyList<Tensor?> RunAt(long opset, string opType, Attribute[] attrs, int outputs, params Tensor[] inputs)
    {
        var node = MakeNode(opType, inputs.Length, outputs, attrs);
        var ctx = new ExecutionContext(node, opset, inputs);
        OperatorRegistry.Find("", opType)!.Execute(ctx);
        return ctx.Outputs;
    }

    private static IReadOnlyList<ValueType?> Infer(string opType, Attribute[] attrs, int outputs, params ValueType[] inputs)
    {
        var node = MakeNode(opType, inputs.Length, outputs, attrs);
        var types = node.Inputs.Select((n, i) => (n, inputs[i])).ToDictionary(p => p.n, p => p.Item2);
        var ctx = new InferenceContext(node, 22, n => types.GetValueOrDefault(n), _ => null);
        OperatorRegistry.Find("", opType)!.InferTypes(ctx);
        return ctx.Outputs;
    }

    private static float[] F(params float[] v) => v;

    private static void AssertCode(string code, Action a) => Assert.Equal(code, Assert.Throws<EdgeException>(a).Code);

    [Fact]
    public void SamePaddingPutsTheOddUnitAtTheEndForUpperAndTheBeginningForLower()
    {
        var x = Tensor.FromArray(F(1, 2, 3, 4), 1, 1, 4);
        var w = Tensor.FromArray(F(1, 1, 1), 1, 1, 3);
        // out = ceil(4/2) = 2, total pad = (2-1)*2 + 3 - 4 = 1.
        var lower = Run("Conv", [Str("auto_pad", "SAME_LOWER"), Ints("strides", 2)], 1, x, w)[0]!;
        var upper = Run("Conv", [Str("auto_pad", "SAME_UPPER"), Ints("strides", 2)], 1, x, w)[0]!;
        Assert.Equal(F(0 + 1 + 2, 2 + 3 + 4), lower.As<float>());
        Assert.Equal(F(1 + 2 + 3, 3 + 4 + 0), upper.As<float>());
    }

    [Fact]
    public void ConvTransposeOutputShapeSplitsPaddingPerSpec()
    {
        var x = Tensor.FromArray(F(1, 2), 1, 1, 2);
        var w = Tensor.FromArray(F(1, 1, 1), 1, 1, 3);
        // Full result [1, 3, 3, 2]; output_shape 3 leaves total padding 1: NOTSET pads the start, SAME_UPPER the end.
        var notSet = Run("ConvTranspose", [Ints("output_shape", 3)], 1, x, w)[0]!;
        var upper = Run("ConvTranspose", [Ints("output_shape", 3), Str("auto_pad", "SAME_UPPER")], 1, x, w)[0]!;
        Assert.Equal(F(3, 3, 2), notSet.As<float>());
        Assert.Equal(F(1, 3, 3), upper.As<float>());
        // A longer output_shape appends positions that receive only the bias.
        var longer = Run("ConvTranspose", [Ints("output_shape", 6)], 1, x, w, Tensor.FromArray(F(10), 1))[0]!;
        Assert.Equal(F(11, 13, 13, 12, 10, 10), longer.As<float>());
    }

    [Fact]
    public void AveragePoolCeilModeNeverCountsTapsPastTheEndPadding()
    {
        // in 3, kernel 2, stride 2, ceil: 2 windows; the second reads x[2] and a tap past the input (not padding).
        var x = Tensor.FromArray(F(1, 2, 3), 1, 1, 3);
        foreach (var cip in new[] { 0L, 1L })
        {
            var y = Run("AveragePool", [Ints("kernel_shape", 2), Ints("strides", 2), Int("ceil_mode", 1), Int("count_include_pad", cip)], 1, x)[0]!;
            Assert.Equal(F(1.5f, 3), y.As<float>());
        }
        // With explicit padding, count_include_pad = 1 counts the padded taps.
        var padded = Run("AveragePool", [Ints("kernel_shape", 2), Ints("pads", 1, 0), Int("count_include_pad", 1)], 1, x)[0]!;
        Assert.Equal(F(0.5f, 1.5f, 2.5f), padded.As<float>());
    }

    [Fact]
    public void MaxPoolIndicesCountBatchAndChannelAndHonourStorageOrder()
    {
        // 2 channels of 2x3 int8; kernel 2x2: both windows of channel 0 peak at (0,1), of channel 1 at (1,2) / (1,2).
        var x = Tensor.FromArray(new sbyte[] { 1, 9, -3, 7, 2, 8, /* channel 1 */ -5, -6, -7, -8, -1, -2 }, 1, 2, 2, 3);
        var row = Run("MaxPool", [Ints("kernel_shape", 2, 2)], 2, x);
        Assert.Equal(new sbyte[] { 9, 9, -1, -1 }, row[0]!.As<sbyte>());
        Assert.Equal(new long[] { 1, 1, 6 + 4, 6 + 4 }, row[1]!.As<long>());
        var col = Run("MaxPool", [Ints("kernel_shape", 2, 2), Int("storage_order", 1)], 2, x);
        // Column-major spatial index of (h, w) in a 2x3 image is h + 2*w.
        Assert.Equal(new long[] { 2, 2, 6 + 3, 6 + 3 }, col[1]!.As<long>());
    }

    [Fact]
    public void UInt8ValuesAbove127AreNotReadAsNegative()
    {
        var y = Run("MaxPool", [Ints("kernel_shape", 2)], 1, Tensor.FromArray(new byte[] { 200, 100, 3 }, 1, 1, 3))[0]!;
        Assert.Equal(new byte[] { 200, 100 }, y.As<byte>());
        var c = Run("ConvInteger", [], 1, Tensor.FromArray(new byte[] { 200 }, 1, 1, 1), Tensor.FromArray(new byte[] { 250 }, 1, 1, 1),
            Tensor.Scalar((byte)100))[0]!;
        Assert.Equal(new[] { 100 * 250 }, c.As<int>());
    }

    [Fact]
    public void QLinearConvPerChannelScalesRoundHalfToEvenAndSaturate()
    {
        var x = Tensor.FromArray(new byte[] { 1 }, 1, 1, 1, 1);
        var w = Tensor.FromArray(new sbyte[] { 1, 1, 100, -100 }, 4, 1, 1, 1);
        var wScale = Tensor.FromArray(F(2.5f, 3.5f, 2, 2), 4);
        var wZero = Tensor.FromArray(new sbyte[] { 0, 0, -100, 100 }, 4);
        // real values 2.5 -> 2, 3.5 -> 4, 400 -> 127, -400 -> -128.
        var y = Run("QLinearConv", [], 1, x, Tensor.Scalar(1f), Tensor.Scalar((byte)0), w, wScale, wZero, Tensor.Scalar(1f), Tensor.Scalar((sbyte)0))[0]!;
        Assert.Equal(DataType.Int8, y.DataType);
        Assert.Equal(new sbyte[] { 2, 4, 127, -128 }, y.As<sbyte>());
    }

    [Fact]
    public void BadAttributesGiveCodedErrors()
    {
        var x = Tensor.FromArray(new float[16], 1, 1, 4, 4);
        var w = Tensor.FromArray(new float[9], 1, 1, 3, 3);
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("Conv", [Str("auto_pad", "SAME")], 1, x, w));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("Conv", [Ints("strides", 1)], 1, x, w));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("Conv", [Ints("strides", 1, 0)], 1, x, w));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("Conv", [Ints("pads", 1, 1, -1, 1)], 1, x, w));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("Conv", [Int("group", 0)], 1, x, w));
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("Conv", [Int("group", 2)], 1, x, w));
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("Conv", [Ints("kernel_shape", 2, 2)], 1, x, w));
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("Conv", [], 1, x, Tensor.FromArray(new float[25], 1, 1, 5, 5)));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("MaxPool", [], 1, x));
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("MaxPool", [Ints("kernel_shape", 2)], 1, x));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("MaxPool", [Ints("kernel_shape", 2, 2), Int("storage_order", 2)], 1, x));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("AveragePool", [Ints("kernel_shape", 2, 2), Int("count_include_pad", 3)], 1, x));
        AssertCode(EdgeCodes.InvalidAttribute, () => RunAt(18, "AveragePool", [Ints("kernel_shape", 2, 2), Ints("dilations", 2, 2)], 1, x));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("ConvTranspose", [Ints("strides", 2, 2), Ints("output_padding", 2, 0)], 1, x, w));
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("MaxPool", [Ints("kernel_shape", 2, 2)], 1, Tensor.FromArray(new int[16], 1, 1, 4, 4)));
    }

    [Fact]
    public void ShapeInferenceKeepsWhatIsKnowable()
    {
        var x = new ValueType(DataType.Float, [Dim.Symbol("N"), Dim.Known(3), Dim.Unknown, Dim.Known(32)]);
        var w = new ValueType(DataType.Float, [Dim.Known(8), Dim.Known(3), Dim.Known(3), Dim.Known(3)]);
        var y = Infer("Conv", [Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)], 1, x, w)[0]!;
        Assert.Equal([Dim.Symbol("N"), Dim.Known(8), Dim.Unknown, Dim.Known(16)], y.Shape!);

        // Unknown input rank: the kernel still fixes the output rank.
        var p = Infer("MaxPool", [Ints("kernel_shape", 2, 2)], 2, new ValueType(DataType.UInt8, null))!;
        Assert.Equal(4, p[0]!.Shape!.Length);
        Assert.Equal(DataType.Int64, p[1]!.ElemType);

        var t = Infer("ConvTranspose", [Ints("strides", 2, 2), Int("group", 2)], 1,
            new ValueType(DataType.Float, [Dim.Known(1), Dim.Known(4), Dim.Known(5), Dim.Unknown]),
            new ValueType(DataType.Float, [Dim.Known(4), Dim.Known(3), Dim.Known(3), Dim.Known(3)]))[0]!;
        Assert.Equal([Dim.Known(1), Dim.Known(6), Dim.Known(11), Dim.Unknown], t.Shape!);

        var g = Infer("GlobalAveragePool", [], 1, new ValueType(DataType.Float, [Dim.Symbol("N"), Dim.Known(3), Dim.Unknown, Dim.Known(7)]))[0]!;
        Assert.Equal([Dim.Symbol("N"), Dim.Known(3), Dim.Known(1), Dim.Known(1)], g.Shape!);

        AssertCode(EdgeCodes.ShapeMismatch, () => Infer("Conv", [], 1,
            new ValueType(DataType.Float, [Dim.Known(1), Dim.Known(4), Dim.Known(5), Dim.Known(5)]), w));
    }
}

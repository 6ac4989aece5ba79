using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ExecutionContext = EdgeCompile.Compiler.Operators.ExecutionContext;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Tests.Operators;

/// <summary>Semantics of the reduction/normalization group that the ONNX conformance data does not cover.</summary>
public class ReduceTests
{
    private static Attribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, I = v };
    private static Attribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };

    private static Node MakeNode(string op, int inputCount, int outputCount, Attribute[] attrs) => new()
    {
        OpType = op,
        Inputs = Enumerable.Range(0, inputCount).Select(i => $"x{i}").ToList(),
        Outputs = Enumerable.Range(0, outputCount).Select(i => $"y{i}").ToList(),
        Attributes = attrs.ToList(),
    };

    private static Tensor[] Run(string op, long opset, Tensor[] inputs, int outputs = 1, params Attribute[] attrs)
    {
        var node = MakeNode(op, inputs.Length, outputs, attrs);
        var ctx = new ExecutionContext(node, opset, inputs);
        OperatorRegistry.Find("", op)!.Execute(ctx);
        return ctx.Outputs.Select(o => o!).ToArray();
    }

    private static ValueType?[] Infer(string op, long opset, ValueType[] inputs, Tensor?[]? constants = null, int outputs = 1, params Attribute[] attrs)
    {
        var node = MakeNode(op, inputs.Length, outputs, attrs);
        var ctx = new InferenceContext(node, opset,
            name => inputs[int.Parse(name[1..])],
            name => constants?[int.Parse(name[1..])]);
        OperatorRegistry.Find("", op)!.InferTypes(ctx);
        return ctx.Outputs.ToArray();
    }

    private static Tensor Axes(params long[] axes) => Tensor.FromArray(axes, axes.Length);

    private static string CodeOf(Action a) => Assert.Throws<EdgeException>(a).Code;

    [Fact]
    public void DuplicateOrOutOfRangeAxesAreCodedErrors()
    {
        var x = Tensor.FromArray(new float[6], 2, 3);
        Assert.Equal(EdgeCodes.InvalidValue, CodeOf(() => Run("ReduceSum", 13, [x, Axes(1, -1)])));
        Assert.Equal(EdgeCodes.InvalidValue, CodeOf(() => Run("ReduceMax", 18, [x, Axes(2)])));
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run("ReduceMean", 13, [x], 1, Ints("axes", -3))));
        // The axes form must match the opset: attribute before 18 (13 for ReduceSum), input from then on.
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run("ReduceMean", 18, [x], 1, Ints("axes", 0))));
        Assert.Equal(EdgeCodes.InvalidArity, CodeOf(() => Run("ReduceMean", 13, [x, Axes(0)])));
    }

    [Fact]
    public void EmptyReductionsGiveTheIdentityOfTheirType()
    {
        var f = Tensor.FromArray(new float[0], 2, 0);
        Assert.Equal(new[] { float.NegativeInfinity, float.NegativeInfinity }, Run("ReduceLogSumExp", 18, [f, Axes(1)])[0].As<float>());
        Assert.Equal(new[] { 1f, 1f }, Run("ReduceProd", 18, [f, Axes(1)])[0].As<float>());
        Assert.Equal(new[] { float.PositiveInfinity, float.PositiveInfinity }, Run("ReduceMin", 18, [f, Axes(1)])[0].As<float>());
        Assert.Equal(new[] { int.MinValue, int.MinValue }, Run("ReduceMax", 18, [Tensor.FromArray(new int[0], 2, 0), Axes(1)])[0].As<int>());
        Assert.Equal(new byte[] { 255, 255 }, Run("ReduceMin", 18, [Tensor.FromArray(new byte[0], 2, 0), Axes(1)])[0].As<byte>());
        Assert.Equal(new[] { true, true }, Run("ReduceMin", 20, [Tensor.FromArray(new bool[0], 2, 0), Axes(1)])[0].As<bool>());
        Assert.Equal(new[] { false, false }, Run("ReduceMax", 20, [Tensor.FromArray(new bool[0], 2, 0), Axes(1)])[0].As<bool>());
    }

    [Fact]
    public void NoopWithEmptyAxesReducesEachElementAlone()
    {
        // As the ONNX reference: ReduceSumSquare with noop_with_empty_axes and no axes is x*x, ReduceL1 |x|.
        var x = Tensor.FromArray(new[] { -2f, 3f }, 2);
        Assert.Equal(new[] { 4f, 9f }, Run("ReduceSumSquare", 18, [x, Axes()], 1, Int("noop_with_empty_axes", 1))[0].As<float>());
        Assert.Equal(new[] { 2f, 3f }, Run("ReduceL1", 18, [x], 1, Int("noop_with_empty_axes", 1))[0].As<float>());
        // Without the flag, empty axes reduce everything.
        var all = Run("ReduceSum", 13, [x, Axes()], 1, Int("keepdims", 0))[0];
        Assert.Empty(all.Shape);
        Assert.Equal(1f, all.As<float>()[0]);
    }

    [Fact]
    public void IntegerReductionsStayExact()
    {
        var x = Tensor.FromArray(new[] { 7, -8, 1, long.MaxValue }, 2, 2);
        Assert.Equal(new[] { 0L, long.MaxValue / 2 + 1 }, Run("ReduceMean", 18, [x, Axes(1)])[0].As<long>()); // (7-8)/2 truncates to 0
        var u = Tensor.FromArray(new[] { ulong.MaxValue, 1UL }, 2);
        Assert.Equal(new[] { ulong.MaxValue }, Run("ReduceMax", 18, [u])[0].As<ulong>());
    }

    [Fact]
    public void ReduceShapeInferenceWithRuntimeAxes()
    {
        var x = new ValueType(DataType.Float, [Dim.Symbol("N"), Dim.Known(1), Dim.Known(4)]);
        var axes1 = new ValueType(DataType.Int64, [Dim.Known(1)]);
        var kept = Infer("ReduceSum", 13, [x, axes1])[0]!;
        Assert.Equal(new[] { Dim.Unknown, Dim.Known(1), Dim.Unknown }, kept.Shape);
        var dropped = Infer("ReduceSum", 13, [x, axes1], attrs: Int("keepdims", 0))[0]!;
        Assert.Equal(2, dropped.Shape!.Length);
        // Constant axes give exact dims.
        var exact = Infer("ReduceMax", 18, [x, axes1], [null, Axes(-1)], attrs: Int("keepdims", 0))[0]!;
        Assert.Equal(new[] { Dim.Symbol("N"), Dim.Known(1) }, exact.Shape);
    }

    [Fact]
    public void SoftmaxBeforeOpset13CoercesTo2D()
    {
        // [1, 2, 2] with axis 1: before 13 all four values form one row; from 13 each pair along axis 1 is a lane.
        var x = Tensor.FromArray(new[] { 0f, 0f, 0f, 0f }, 1, 2, 2);
        Assert.All(Run("Softmax", 11, [x], 1, Int("axis", 1))[0].As<float>(), v => Assert.Equal(0.25f, v));
        Assert.All(Run("Softmax", 13, [x], 1, Int("axis", 1))[0].As<float>(), v => Assert.Equal(0.5f, v));
        var h = Tensor.FromArray(new[] { 1f, 2f, 3f, 0f }, 1, 2, 2);
        Assert.Equal(new[] { 0f, 0f, 1f, 0f }, Run("Hardmax", 11, [h], 1, Int("axis", 1))[0].As<float>());
        Assert.Equal(new[] { 0f, 1f, 1f, 0f }, Run("Hardmax", 13, [h], 1, Int("axis", 1))[0].As<float>());
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run("Softmax", 13, [h], 1, Int("axis", 3))));
    }

    [Fact]
    public void ArgMaxTiesNaNAndEmptyAxis()
    {
        var x = Tensor.FromArray(new[] { 1f, 3f, 3f, float.NaN, 2f, float.NaN }, 2, 3);
        Assert.Equal(new[] { 1L, 0L }, Run("ArgMax", 13, [x], 1, Int("axis", 1), Int("keepdims", 0))[0].As<long>());
        Assert.Equal(new[] { 2L, 2L }, Run("ArgMax", 13, [x], 1, Int("axis", 1), Int("select_last_index", 1))[0].As<long>());
        Assert.Equal(new[] { 0L, 0L }, Run("ArgMin", 13, [x], 1, Int("axis", 1), Int("keepdims", 0))[0].As<long>());
        Assert.Equal(EdgeCodes.InvalidValue, CodeOf(() => Run("ArgMax", 13, [Tensor.FromArray(new float[0], 2, 0)], 1, Int("axis", 1))));
    }

    [Fact]
    public void BadAttributeValuesAreCodedErrors()
    {
        var x = Tensor.FromArray(new float[8], 1, 2, 2, 2);
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run("LpNormalization", 13, [x], 1, Int("p", 3))));
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run("LRN", 13, [x], 1, Int("size", 0))));
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run("LRN", 13, [x])));
        var scale = Tensor.FromArray(new[] { 1f, 1f }, 2);
        Assert.Equal(EdgeCodes.InvalidAttribute, CodeOf(() => Run("LayerNormalization", 17, [x, scale], 1, Int("stash_type", 7))));
        Assert.Equal(EdgeCodes.ShapeMismatch, CodeOf(() => Run("LayerNormalization", 17, [x, Tensor.FromArray(new float[3], 3)])));
        var c = Tensor.FromArray(new[] { 0f, 1f }, 2);
        Assert.Equal(EdgeCodes.ShapeMismatch, CodeOf(() => Run("BatchNormalization", 15, [x, c, c, c, Tensor.FromArray(new float[3], 3)])));
        Assert.Equal(EdgeCodes.InvalidArity, CodeOf(() => Run("BatchNormalization", 9, [x, c, c, c, c], 5)));
    }

    [Fact]
    public void LpNormalizationL1AndZeroLanes()
    {
        var x = Tensor.FromArray(new[] { -1f, 3f, 0f, 0f }, 2, 2);
        Assert.Equal(new[] { -0.25f, 0.75f, 0f, 0f }, Run("LpNormalization", 13, [x], 1, Int("p", 1))[0].As<float>());
    }

    [Fact]
    public void LayerNormalizationStatisticsShapes()
    {
        var x = Tensor.FromArray(new[] { 1f, 3f, 5f, 7f }, 2, 2);
        var outs = Run("LayerNormalization", 17, [x, Tensor.FromArray(new[] { 1f }, 1)], 3, Int("axis", 1), new Attribute { Name = "epsilon", Kind = AttributeKind.Float, F = 0 });
        Assert.Equal(new[] { -1f, 1f, -1f, 1f }, outs[0].As<float>());
        Assert.Equal(new[] { 2, 1 }, outs[1].Shape);
        Assert.Equal(new[] { 2f, 6f }, outs[1].As<float>());
        Assert.Equal(new[] { 1f, 1f }, outs[2].As<float>());
    }
}

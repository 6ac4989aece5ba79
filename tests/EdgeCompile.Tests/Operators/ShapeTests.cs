using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ExecutionContext = EdgeCompile.Compiler.Operators.ExecutionContext;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Tests.Operators;

/// <summary>Semantics of the data-movement operators that the ONNX conformance data does not cover.</summary>
public class ShapeTests
{
    private static Node MakeNode(string op, int inputs, int outputs = 1, params Attribute[] attrs) => new()
    {
        OpType = op,
        Inputs = Enumerable.Range(0, inputs).Select(i => "in" + i).ToList(),
        Outputs = Enumerable.Range(0, outputs).Select(i => "out" + i).ToList(),
        Attributes = attrs.ToList(),
    };

    private static Attribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };
    private static Attribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, I = v };
    private static Attribute Str(string name, string v) => new() { Name = name, Kind = AttributeKind.String, S = System.Text.Encoding.UTF8.GetBytes(v) };

    private static Tensor[] Run(string op, long opset, Node node, params Tensor?[] inputs)
    {
        var ctx = new ExecutionContext(node, opset, inputs);
        OperatorRegistry.Find("", op)!.Execute(ctx);
        return ctx.Outputs.Select(o => o!).ToArray();
    }

    private static IReadOnlyList<ValueType?> Infer(string op, long opset, Node node, ValueType?[] types, Tensor?[]? constants = null)
    {
        var ctx = new InferenceContext(node, opset,
            name => name.StartsWith("in") ? types[int.Parse(name[2..])] : null,
            name => name.StartsWith("in") && constants is not null && int.Parse(name[2..]) < constants.Length ? constants[int.Parse(name[2..])] : null);
        OperatorRegistry.Find("", op)!.InferTypes(ctx);
        return ctx.Outputs;
    }

    private static Tensor I64(params long[] v) => Tensor.FromArray(v, v.Length);

    [Fact]
    public void ConstantWithStringValueIsUnsupportedType()
    {
        var node = MakeNode("Constant", 0, 1, new Attribute { Name = "value_strings", Kind = AttributeKind.Strings, Strings = [[65]] });
        var e = Assert.Throws<EdgeException>(() => Run("Constant", 13, node));
        Assert.Equal(EdgeCodes.UnsupportedDataType, e.Code);
    }

    [Fact]
    public void ConstantNeedsExactlyOneValue()
    {
        var node = MakeNode("Constant", 0, 1, Int("value_int", 1), Ints("value_ints", 1, 2));
        Assert.Equal(EdgeCodes.InvalidAttribute, Assert.Throws<EdgeException>(() => Run("Constant", 13, node)).Code);
        var ok = Run("Constant", 13, MakeNode("Constant", 0, 1, Ints("value_ints", 4, 5)))[0];
        Assert.Equal(DataType.Int64, ok.DataType);
        Assert.Equal(new long[] { 4, 5 }, ok.As<long>());
    }

    [Fact]
    public void ReshapeRejectsTwoInferredDims()
    {
        var e = Assert.Throws<EdgeException>(() => Run("Reshape", 13, MakeNode("Reshape", 2), Tensor.Zeros(DataType.Float, [2, 3]), I64(-1, -1)));
        Assert.Equal(EdgeCodes.InvalidValue, e.Code);
    }

    [Fact]
    public void ReshapeZeroCopiesSymbolicDim()
    {
        var t = new ValueType(DataType.Float, [Dim.Symbol("N"), Dim.Known(3), Dim.Known(4)]);
        var r = Infer("Reshape", 13, MakeNode("Reshape", 2), [t, ValueType.FromShape(DataType.Int64, [2])], [null, I64(0, -1)]);
        Assert.Equal("float[N,?]", r[0]!.ToString());
    }

    [Fact]
    public void SliceWithNonConstantStartsKeepsRankAndUnslicedDims()
    {
        var t = new ValueType(DataType.Float, [Dim.Known(5), Dim.Known(6)]);
        var i64 = ValueType.FromShape(DataType.Int64, [1]);
        var r = Infer("Slice", 13, MakeNode("Slice", 4), [t, i64, i64, i64], [null, null, null, I64(1)]);
        Assert.Equal("float[5,?]", r[0]!.ToString());
    }

    [Fact]
    public void SliceNegativeStepWithHugeBoundsReversesAxis()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 4);
        var y = Run("Slice", 13, MakeNode("Slice", 5), x, I64(long.MaxValue), I64(long.MinValue), I64(0), I64(-1))[0];
        Assert.Equal(new[] { 4f, 3f, 2f, 1f }, y.As<float>());
    }

    [Fact]
    public void GatherIndexOutOfRangeIsCodedError()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3);
        var e = Assert.Throws<EdgeException>(() => Run("Gather", 13, MakeNode("Gather", 2), x, I64(3)));
        Assert.Equal(EdgeCodes.InvalidValue, e.Code);
        Assert.Equal(new[] { 3f }, Run("Gather", 13, MakeNode("Gather", 2), x, I64(-1))[0].As<float>());
    }

    [Fact]
    public void ScatterReductionNeedsItsOpset()
    {
        var node = MakeNode("ScatterND", 3, 1, Str("reduction", "max"));
        var data = Tensor.FromArray(new[] { 1f, 5f }, 2);
        var upd = Tensor.FromArray(new[] { 3f, 4f }, 2);
        var idx = Tensor.FromArray(new long[] { 1, 0 }, 2, 1);
        Assert.Equal(EdgeCodes.InvalidAttribute, Assert.Throws<EdgeException>(() => Run("ScatterND", 16, node, data, idx, upd)).Code);
        Assert.Equal(new[] { 4f, 5f }, Run("ScatterND", 18, node, data, idx, upd)[0].As<float>());
    }

    [Fact]
    public void PadNegativeCropsThenReflects()
    {
        // [1,2,3,4] cropped by 1 at the start → [2,3,4]; reflect 2 at the end → [2,3,4,3,2].
        var x = Tensor.FromArray(new[] { 1, 2, 3, 4 }, 4);
        var y = Run("Pad", 18, MakeNode("Pad", 2, 1, Str("mode", "reflect")), x, I64(-1, 2))[0];
        Assert.Equal(new[] { 2, 3, 4, 3, 2 }, y.As<int>());
        Assert.Equal("int32[5]", Infer("Pad", 18, MakeNode("Pad", 2, 1, Str("mode", "reflect")),
            [ValueType.FromShape(DataType.Int32, [4]), ValueType.FromShape(DataType.Int64, [2])], [null, I64(-1, 2)])[0]!.ToString());
    }

    [Fact]
    public void PadWrapNeedsOpset19()
    {
        var x = Tensor.FromArray(new[] { 1, 2 }, 2);
        var node = MakeNode("Pad", 2, 1, Str("mode", "wrap"));
        Assert.Equal(EdgeCodes.InvalidAttribute, Assert.Throws<EdgeException>(() => Run("Pad", 18, node, x, I64(1, 3))).Code);
        Assert.Equal(new[] { 2, 1, 2, 1, 2, 1 }, Run("Pad", 19, node, x, I64(1, 3))[0].As<int>());
    }

    [Fact]
    public void SplitNumOutputsGivesSmallerLastChunk()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 5).Select(i => (float)i).ToArray(), 5);
        var outs = Run("Split", 18, MakeNode("Split", 1, 3, Int("num_outputs", 3)), x);
        Assert.Equal(new[] { 2, 2, 1 }, outs.Select(o => o.Length));
        Assert.Equal(new[] { 4f }, outs[2].As<float>());
    }

    [Fact]
    public void SqueezeOfNonUnitAxisIsCodedError()
    {
        var node = MakeNode("Squeeze", 1, 1, Ints("axes", 0));
        var e = Assert.Throws<EdgeException>(() => Run("Squeeze", 11, node, Tensor.Zeros(DataType.Float, [2, 1])));
        Assert.Equal(EdgeCodes.ShapeMismatch, e.Code);
    }

    [Fact]
    public void ExpandWithSymbolicInputDim()
    {
        var t = new ValueType(DataType.Float, [Dim.Symbol("N"), Dim.Known(1)]);
        var r = Infer("Expand", 13, MakeNode("Expand", 2), [t, ValueType.FromShape(DataType.Int64, [3])], [null, I64(2, 1, 4)]);
        Assert.Equal("float[2,N,4]", r[0]!.ToString());
    }
}

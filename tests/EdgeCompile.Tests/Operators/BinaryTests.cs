using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;
using ExecutionContext = EdgeCompile.Compiler.Operators.ExecutionContext;

namespace EdgeCompile.Tests.Operators;

/// <summary>Semantics of the binary/variadic group that the conformance data does not cover.</summary>
public class BinaryTests
{
    private static Attribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, I = v };

    private static Node MakeNode(string op, int inputs, int outputs, params Attribute[] attrs) => new()
    {
        OpType = op,
        Inputs = Enumerable.Range(0, inputs).Select(i => $"in{i}").ToList(),
        Outputs = Enumerable.Range(0, outputs).Select(i => $"out{i}").ToList(),
        Attributes = attrs.ToList(),
    };

    private static Tensor[] Run(string op, long opset, Tensor[] inputs, int outputs = 1, params Attribute[] attrs)
    {
        var node = MakeNode(op, inputs.Length, outputs, attrs);
        var ctx = new ExecutionContext(node, opset, inputs);
        OperatorRegistry.Find("", op)!.Execute(ctx);
        return ctx.Outputs.Select(t => t!).ToArray();
    }

    private static IReadOnlyList<ValueType?> Infer(string op, long opset, ValueType?[] types, Tensor?[] constants, int outputs = 1, params Attribute[] attrs)
    {
        var node = MakeNode(op, types.Length, outputs, attrs);
        var ctx = new InferenceContext(node, opset,
            name => types[int.Parse(name[2..])],
            name => constants.Length > int.Parse(name[2..]) ? constants[int.Parse(name[2..])] : null);
        OperatorRegistry.Find("", op)!.InferTypes(ctx);
        return ctx.Outputs;
    }

    private static void AssertCode(string code, Action a) => Assert.Equal(code, Assert.Throws<EdgeException>(a).Code);

    [Fact]
    public void IntegerDivisionTruncatesAndByZeroIsACodedError()
    {
        var r = Run("Div", 14, [Tensor.FromArray(new long[] { -7, 7, long.MinValue }, 3), Tensor.FromArray(new long[] { 2, -2, -1 }, 3)]);
        Assert.Equal(new long[] { -3, -3, long.MinValue }, r[0].As<long>()); // MinValue / -1 wraps
        AssertCode(EdgeCodes.InvalidValue, () => Run("Div", 14, [Tensor.FromArray(new[] { 1 }, 1), Tensor.FromArray(new[] { 0 }, 1)]));
        AssertCode(EdgeCodes.InvalidValue, () => Run("Div", 14, [Tensor.FromArray(new ulong[] { 1 }, 1), Tensor.FromArray(new ulong[] { 0 }, 1)]));
    }

    [Fact]
    public void DivUInt64IsUnsigned()
    {
        var r = Run("Div", 14, [Tensor.FromArray(new[] { ulong.MaxValue }, 1), Tensor.FromArray(new ulong[] { 2 }, 1)]);
        Assert.Equal(ulong.MaxValue / 2, r[0].As<ulong>()[0]);
    }

    [Fact]
    public void ModSignRulesAndAttributeChecks()
    {
        var a = Tensor.FromArray(new[] { -7, 7, -7, 7 }, 4);
        var b = Tensor.FromArray(new[] { 3, -3, -3, 3 }, 4);
        Assert.Equal(new[] { 2, -2, -1, 1 }, Run("Mod", 13, [a, b])[0].As<int>());              // divisor's sign
        Assert.Equal(new[] { -1, 1, -1, 1 }, Run("Mod", 13, [a, b], 1, Int("fmod", 1))[0].As<int>()); // dividend's sign
        Assert.Equal(new long[] { 0 }, Run("Mod", 13, [Tensor.FromArray(new[] { long.MinValue }, 1), Tensor.FromArray(new[] { -1L }, 1)])[0].As<long>());
        var f = Tensor.FromArray(new[] { 1f }, 1);
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("Mod", 13, [f, f]));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("Mod", 13, [a, b], 1, Int("fmod", 2)));
        AssertCode(EdgeCodes.InvalidValue, () => Run("Mod", 13, [a, Tensor.FromArray(new[] { 0 }, 1)]));
        AssertCode(EdgeCodes.InvalidAttribute, () => Infer("Mod", 13, [new(DataType.Float, [1]), new(DataType.Float, [1])], []));
    }

    [Fact]
    public void IntegerPowIsExactAndHandlesNegativeExponents()
    {
        var r = Run("Pow", 15, [Tensor.FromArray(new long[] { 3, 2, -1, 1, 2 }, 5), Tensor.FromArray(new long[] { 39, 64, -3, -5, -1 }, 5)]);
        Assert.Equal(new long[] { 4052555153018976267, 0, -1, 1, 0 }, r[0].As<long>()); // 3^39 exact; 2^64 wraps to 0
        AssertCode(EdgeCodes.InvalidValue, () => Run("Pow", 15, [Tensor.FromArray(new[] { 0 }, 1), Tensor.FromArray(new[] { -1 }, 1)]));
    }

    [Fact]
    public void MixedTypesAreRejectedWithACode()
    {
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("Sub", 14, [Tensor.FromArray(new[] { 1f }, 1), Tensor.FromArray(new[] { 1 }, 1)]));
        AssertCode(EdgeCodes.ShapeMismatch, () => Infer("Greater", 13, [new(DataType.Float, [1]), new(DataType.Double, [1])], []));
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("And", 7, [Tensor.FromArray(new[] { 1 }, 1), Tensor.FromArray(new[] { 1 }, 1)]));
    }

    [Fact]
    public void MaxPropagatesNaNAndComparisonsWithNaNAreFalse()
    {
        var x = Tensor.FromArray(new[] { float.NaN, 1f }, 2);
        var y = Tensor.FromArray(new[] { 2f, float.NaN }, 2);
        Assert.All(Run("Max", 13, [x, y])[0].As<float>(), v => Assert.True(float.IsNaN(v)));
        Assert.Equal(new[] { false, true }, Run("Equal", 19, [x, x])[0].As<bool>());
        Assert.Equal(new[] { false, false }, Run("GreaterOrEqual", 16, [x, y])[0].As<bool>());
    }

    [Fact]
    public void WhereBroadcastsAllThreeInputsForAnyType()
    {
        var c = Tensor.FromArray(new[] { true, false }, 2, 1);
        var x = Tensor.FromArray(new long[] { 1, 2, 3 }, 3);
        var y = Tensor.FromArray(new long[] { -1 }, 1);
        var r = Run("Where", 16, [c, x, y])[0];
        Assert.Equal(new[] { 2, 3 }, r.Shape);
        Assert.Equal(new long[] { 1, 2, 3, -1, -1, -1 }, r.As<long>());
    }

    [Fact]
    public void TopKTiesTakeTheLowerIndexAndOpset1UsesTheAttribute()
    {
        var x = Tensor.FromArray(new[] { 1, 3, 3, 2, 3 }, 5);
        var r = Run("TopK", 1, [x], 2, Int("k", 3));
        Assert.Equal(new[] { 3, 3, 3 }, r[0].As<int>());
        Assert.Equal(new long[] { 1, 2, 4 }, r[1].As<long>());
        var s = Run("TopK", 11, [x, Tensor.FromArray(new long[] { 2 }, 1)], 2, Int("largest", 0));
        Assert.Equal(new long[] { 0, 3 }, s[1].As<long>());
        AssertCode(EdgeCodes.InvalidValue, () => Run("TopK", 11, [x, Tensor.FromArray(new long[] { 6 }, 1)], 2));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("TopK", 11, [x, Tensor.FromArray(new long[] { 1 }, 1)], 2, Int("sorted", 5)));
    }

    [Fact]
    public void TopKShapeInferenceUsesAConstantK()
    {
        var types = new ValueType?[] { new(DataType.Float, [Dim.Symbol("N"), Dim.Known(10)]), new(DataType.Int64, [Dim.Known(1)]) };
        var known = Infer("TopK", 11, types, [null, Tensor.FromArray(new long[] { 4 }, 1)], 2);
        Assert.Equal(new[] { Dim.Symbol("N"), Dim.Known(4) }, known[0]!.Shape);
        Assert.Equal(DataType.Int64, known[1]!.ElemType);
        var unknown = Infer("TopK", 11, types, [], 2);
        Assert.False(unknown[0]!.Shape![1].IsKnown);
    }

    [Fact]
    public void RangeCountsExactlyAndRejectsZeroDelta()
    {
        static Tensor S(int v) => Tensor.Scalar(v);
        Assert.Equal(new[] { 10, 7, 4, 1 }, Run("Range", 11, [S(10), S(0), S(-3)])[0].As<int>());
        Assert.Empty(Run("Range", 11, [S(0), S(10), S(-1)])[0].As<int>());
        AssertCode(EdgeCodes.InvalidValue, () => Run("Range", 11, [S(0), S(10), S(0)]));
        var scalar = new ValueType(DataType.Int32, []);
        Assert.Equal(new[] { Dim.Known(4) }, Infer("Range", 11, [scalar, scalar, scalar], [S(10), S(0), S(-3)])[0]!.Shape);
        Assert.False(Infer("Range", 11, [scalar, scalar, scalar], [S(10), null, S(-3)])[0]!.Shape![0].IsKnown);
    }

    [Fact]
    public void OneHotNegativeIndicesWrapOnlyFromOpset11()
    {
        var idx = Tensor.FromArray(new long[] { -1 }, 1);
        var depth = Tensor.Scalar(3L);
        var values = Tensor.FromArray(new[] { 0f, 1f }, 2);
        Assert.Equal(new[] { 0f, 0f, 1f }, Run("OneHot", 11, [idx, depth, values])[0].As<float>());
        Assert.Equal(new[] { 0f, 0f, 0f }, Run("OneHot", 9, [idx, depth, values])[0].As<float>());
        AssertCode(EdgeCodes.InvalidValue, () => Run("OneHot", 11, [idx, Tensor.Scalar(-2L), values]));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("OneHot", 11, [idx, depth, values], 1, Int("axis", 2)));
    }

    [Fact]
    public void CumSumAndTriluRejectBadInputsWithCodes()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3);
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("CumSum", 14, [x, Tensor.Scalar(1)]));
        AssertCode(EdgeCodes.InvalidAttribute, () => Run("CumSum", 14, [x, Tensor.Scalar(0)], 1, Int("exclusive", 2)));
        AssertCode(EdgeCodes.ShapeMismatch, () => Run("Trilu", 14, [x]));
        Assert.Equal(new[] { 5f, 3f, 0f }, Run("CumSum", 14, [x, Tensor.Scalar(0L)], 1, Int("exclusive", 1), Int("reverse", 1))[0].As<float>());
    }
}

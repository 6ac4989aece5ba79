using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators;
using EdgeCompile.Compiler.Operators.Common;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ExecutionContext = EdgeCompile.Compiler.Operators.ExecutionContext;

namespace EdgeCompile.Tests.Operators;

/// <summary>Unary group semantics the ONNX backend data does not cover: accuracy, edge values, coded errors.</summary>
public class UnaryTests
{
    private static Tensor[] Run(Operator op, long opset, Tensor?[] inputs, int outputs = 1, params Attribute[] attributes)
    {
        var node = new Node
        {
            OpType = op.OpType,
            Inputs = inputs.Select((t, i) => t is null ? "" : "in" + i).ToList(),
            Outputs = Enumerable.Range(0, outputs).Select(i => "out" + i).ToList(),
            Attributes = attributes.ToList(),
        };
        var ctx = new ExecutionContext(node, opset, inputs);
        op.Execute(ctx);
        return ctx.Outputs.Select(o => o!).ToArray();
    }

    private static Attribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, I = v };
    private static Attribute Float(string name, float v) => new() { Name = name, Kind = AttributeKind.Float, F = v };
    private static Attribute Str(string name, string v) => new() { Name = name, Kind = AttributeKind.String, S = System.Text.Encoding.UTF8.GetBytes(v) };

    // Reference values: CPython's math.erf / math.erfc.
    [Theory]
    [InlineData(1e-10, 1.1283791670955126e-10, 0.999999999887162)]
    [InlineData(0.1, 0.1124629160182849, 0.8875370839817152)]
    [InlineData(0.5, 0.5204998778130465, 0.4795001221869535)]
    [InlineData(1.0, 0.8427007929497149, 0.15729920705028513)]
    [InlineData(2.0, 0.9953222650189527, 0.004677734981047265)]
    [InlineData(2.4999, 0.9995928300996666, 0.0004071699003334514)]
    [InlineData(2.5, 0.999593047982555, 0.0004069520174449589)]
    [InlineData(3.0, 0.9999779095030014, 2.2090496998585438e-05)]
    [InlineData(5.5, 0.9999999999999927, 7.357847917974398e-15)]
    [InlineData(6.0, 1.0, 2.1519736712498916e-17)]
    [InlineData(10.0, 1.0, 2.088487583762545e-45)]
    public void ErfAndErfcAreAccurateToDoublePrecision(double x, double erf, double erfc)
    {
        Assert.Equal(erf, UnaryHelpers.Erf(x), erf * 1e-14);
        Assert.Equal(-erf, UnaryHelpers.Erf(-x), erf * 1e-14);
        Assert.Equal(erfc, UnaryHelpers.Erfc(x), erfc * 1e-12);
    }

    [Fact]
    public void RoundIsHalfToEven()
    {
        var y = Run(new Round(), 22, [Tensor.FromArray(new[] { 0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.6f }, 6)])[0];
        Assert.Equal(new[] { 0f, 2f, 2f, -0f, -2f, 3f }, y.As<float>());
    }

    [Fact]
    public void EluAndSeluAreExactAroundZero()
    {
        var x = Tensor.FromArray(new[] { 0.0, -1e-20, -1.0 }, 3);
        var elu = Run(new Elu(), 22, [x])[0].As<double>();
        Assert.Equal(new[] { 0.0, -1e-20, Math.Exp(-1) - 1 }, elu);
        Assert.Equal(0.0, Run(new Selu(), 22, [x])[0].As<double>()[0]);
    }

    [Fact]
    public void IntegerAbsNegSignWrapAndKeepUnsigned()
    {
        Assert.Equal(new sbyte[] { -128, 5, 0 }, Run(new Abs(), 13, [Tensor.FromArray(new sbyte[] { -128, -5, 0 }, 3)])[0].As<sbyte>());
        Assert.Equal(new sbyte[] { -128, 5 }, Run(new Neg(), 13, [Tensor.FromArray(new sbyte[] { -128, -5 }, 2)])[0].As<sbyte>());
        Assert.Equal(new ulong[] { 1, 0 }, Run(new Sign(), 13, [Tensor.FromArray(new ulong[] { ulong.MaxValue, 0 }, 2)])[0].As<ulong>());
        Assert.True(double.IsNaN(Run(new Sign(), 13, [Tensor.FromArray(new[] { double.NaN }, 1)])[0].As<double>()[0]));
    }

    [Fact]
    public void NegRejectsUnsignedIntegers()
    {
        var e = Assert.Throws<EdgeException>(() => Run(new Neg(), 13, [Tensor.FromArray(new byte[] { 1 }, 1)]));
        Assert.Equal(EdgeCodes.ShapeMismatch, e.Code);
    }

    [Fact]
    public void GeluRejectsUnknownApproximation()
    {
        var e = Assert.Throws<EdgeException>(() => Run(new Gelu(), 20, [Tensor.FromArray(new[] { 1f }, 1)], 1, Str("approximate", "erf")));
        Assert.Equal(EdgeCodes.InvalidAttribute, e.Code);
    }

    [Fact]
    public void GeluIsAccurateForLargeNegativeInputs()
    {
        // x·Φ(x) at x = −10 is about −7.6e−23; 1 + erf(x/√2) would cancel to 0.
        double y = Run(new Gelu(), 20, [Tensor.FromArray(new[] { -10.0 }, 1)])[0].As<double>()[0];
        Assert.Equal(-10 * 0.5 * 1.5239706048321211e-23, y, 1e-35);
    }

    [Fact]
    public void ClipOpset6UsesAttributesAndMinAboveMaxGivesMax()
    {
        var x = Tensor.FromArray(new[] { -5f, 0f, 5f }, 3);
        Assert.Equal(new[] { -1f, 0f, 2f }, Run(new Clip(), 6, [x], 1, Float("min", -1), Float("max", 2))[0].As<float>());
        var lo = Tensor.Scalar(3f); var hi = Tensor.Scalar(1f);
        Assert.Equal(new[] { 1f, 1f, 1f }, Run(new Clip(), 13, [x, lo, hi])[0].As<float>());
    }

    [Fact]
    public void ClipUInt64ComparesUnsigned()
    {
        var x = Tensor.FromArray(new ulong[] { ulong.MaxValue, 3 }, 2);
        var y = Run(new Clip(), 13, [x, Tensor.Scalar(5UL), null])[0];
        Assert.Equal(new ulong[] { ulong.MaxValue, 5 }, y.As<ulong>());
    }

    [Fact]
    public void ClipBoundOfAnotherTypeIsACodedError()
    {
        var x = Tensor.FromArray(new[] { 1f }, 1);
        var e = Assert.Throws<EdgeException>(() => Run(new Clip(), 13, [x, Tensor.Scalar(0.0)]));
        Assert.Equal(EdgeCodes.ShapeMismatch, e.Code);
    }

    [Fact]
    public void PReluSlopeMustBroadcastToX()
    {
        var x = Tensor.FromArray(new[] { -1f, -2f, -3f, -4f }, 2, 2);
        var e = Assert.Throws<EdgeException>(() => Run(new PRelu(), 16, [x, Tensor.FromArray(new[] { 1f, 2f, 3f }, 3)]));
        Assert.Equal(EdgeCodes.ShapeMismatch, e.Code);
        var y = Run(new PRelu(), 16, [x, Tensor.FromArray(new[] { 0.5f, 2f }, 2)])[0];
        Assert.Equal(new[] { -0.5f, -4f, -1.5f, -8f }, y.As<float>());
    }

    [Fact]
    public void DropoutTrainingIsSeededAndReproducible()
    {
        // numpy: np.random.seed(0); np.random.uniform(0, 1, 4) = [0.5488, 0.7152, 0.6028, 0.5449]
        // ratio 0.6 keeps u >= 0.6: elements 1 and 2, scaled by 1 / 0.4 = 2.5.
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 4);
        var outs = Run(new Dropout(), 13, [x, Tensor.Scalar(0.6f), Tensor.Scalar(true)], 2);
        var y = outs[0].As<float>();
        Assert.Equal(new[] { 0f, 5f, 7.5f, 0f }.Select(v => (double)v), y.Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(new[] { false, true, true, false }, outs[1].As<bool>());
        var again = Run(new Dropout(), 13, [x, Tensor.Scalar(0.6f), Tensor.Scalar(true)], 2);
        Assert.Equal(outs[0].As<float>(), again[0].As<float>());
        // Ratio 0 in training mode is the identity with an all-true mask.
        var id = Run(new Dropout(), 13, [x, Tensor.Scalar(0f), Tensor.Scalar(true)], 2);
        Assert.Equal(x.As<float>(), id[0].As<float>());
        Assert.All(id[1].As<bool>(), Assert.True);
    }

    [Fact]
    public void DropoutBeforeOpset10HasAMaskOfTheInputType()
    {
        var outs = Run(new Dropout(), 7, [Tensor.FromArray(new[] { 3f }, 1)], 2, Float("ratio", 0.3f));
        Assert.Equal(new[] { 1f }, outs[1].As<float>());
        var e = Assert.Throws<EdgeException>(() => Run(new Dropout(), 7, [Tensor.FromArray(new[] { 3f }, 1)], 1, Float("ratio", 1.5f)));
        Assert.Equal(EdgeCodes.InvalidAttribute, e.Code);
    }

    [Fact]
    public void CastTargetErrorsAreCoded()
    {
        var x = Tensor.FromArray(new[] { 1f }, 1);
        Assert.Equal(EdgeCodes.UnsupportedDataType, Assert.Throws<EdgeException>(() => Run(new Cast(), 19, [x], 1, Int("to", (long)DataType.Float8E4M3FN))).Code);
        Assert.Equal(EdgeCodes.InvalidAttribute, Assert.Throws<EdgeException>(() => Run(new Cast(), 19, [x], 1, Int("to", 999))).Code);
        Assert.Equal(EdgeCodes.InvalidAttribute, Assert.Throws<EdgeException>(() => Run(new Cast(), 19, [x], 1, Int("to", 11), Int("saturate", 2))).Code);
    }

    [Fact]
    public void CastRoundsOnceToBFloat16AndFloat()
    {
        // 2^25 + 2^17 + 1 is just above the midpoint between the bfloat16 values 2^25 and 2^25 + 2^18;
        // rounding through float first would land exactly on the midpoint and go to even (2^25).
        long v = (1L << 25) + (1L << 17) + 1;
        var bf = Run(new Cast(), 13, [Tensor.FromArray(new[] { v, -v }, 2)], 1, Int("to", (long)DataType.BFloat16))[0].As<BFloat16>();
        Assert.Equal((float)((1L << 25) + (1L << 18)), (float)bf[0]);
        Assert.Equal(-(float)((1L << 25) + (1L << 18)), (float)bf[1]);
        double d = 1.0 + 1.0 / 256 + 1.0 / (1L << 40); // just above a bfloat16 midpoint, below float precision
        var bd = Run(new Cast(), 13, [Tensor.FromArray(new[] { d }, 1)], 1, Int("to", (long)DataType.BFloat16))[0].As<BFloat16>();
        Assert.Equal(1f + 1f / 128, (float)bd[0]);
        ulong u = (1UL << 63) + (1UL << 39) + 1; // above the float midpoint; via double it would be a tie
        var f = Run(new Cast(), 13, [Tensor.FromArray(new[] { u }, 1)], 1, Int("to", (long)DataType.Float))[0].As<float>();
        Assert.Equal((float)((double)(1UL << 63) + (double)(1UL << 40)), f[0]);
    }

    [Fact]
    public void CastLikeTakesTheSecondInputsType()
    {
        var y = Run(new CastLike(), 15, [Tensor.FromArray(new[] { 1.9f, -1.9f }, 2), Tensor.FromArray(new int[0], 0)])[0];
        Assert.Equal(new[] { 1, -1 }, y.As<int>());
    }
}

using EdgeCompile.Compiler;

namespace EdgeCompile.Tests;

public class TensorTests
{
    [Fact]
    public void CastFloatToIntTruncatesTowardZero()
    {
        var t = Tensor.FromArray(new[] { 1.7f, -1.7f, 0.5f, -0.5f }, 4);
        Assert.Equal(new[] { 1, -1, 0, 0 }, t.CastTo(DataType.Int32).As<int>());
    }

    [Fact]
    public void IntegerConversionWrapsLikeTwosComplement()
    {
        var t = Tensor.FromInt64s(DataType.Int8, [3], [127 + 1, -129, 255]);
        Assert.Equal(new sbyte[] { -128, 127, -1 }, t.As<sbyte>());
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        // 1 + 2^-8 lies exactly halfway between two bfloat16 values (1 and 1 + 2^-7): ties go to even (1).
        Assert.Equal(1f, (float)(BFloat16)(1f + 1f / 256));
        // Just above the halfway point rounds up.
        Assert.Equal(1f + 1f / 128, (float)(BFloat16)(1f + 1f / 256 + 1f / 4096));
        Assert.True(float.IsNaN((float)(BFloat16)float.NaN));
    }

    [Fact]
    public void BroadcastIndexRepeatsSmallerOperand()
    {
        var idx = Shapes.BroadcastIndex([3, 1], [2, 3, 2]);
        Assert.Equal(new[] { 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2 }, idx);
    }
}

public class TensorSignednessTests
{
    // The CLR lets byte[] be viewed as sbyte[] (array covariance between same-size integers); conversions
    // must follow the tensor's DataType, not a runtime type test.
    [Fact]
    public void UnsignedValuesAboveSignedMaxStayPositive()
    {
        Assert.Equal(new[] { 200.0, 255.0 }, Tensor.FromArray(new byte[] { 200, 255 }, 2).ToDoubles());
        Assert.Equal(new[] { 65535L }, Tensor.FromArray(new ushort[] { 65535 }, 1).ToInt64s());
        Assert.Equal(new[] { 4294967295L }, Tensor.FromArray(new uint[] { uint.MaxValue }, 1).ToInt64s());
        Assert.Equal(new[] { -1.0 }, Tensor.FromArray(new long[] { -1 }, 1).ToDoubles());
        Assert.Equal(new[] { -5.0 }, Tensor.FromArray(new sbyte[] { -5 }, 1).ToDoubles());
    }
}

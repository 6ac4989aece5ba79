namespace EdgeCompile.Kernels.Tests;

/// <summary>MiscOps: LpNorm, InstanceNorm, Sign, Tan, Fill, ConstantOfShape against hand-computed values.</summary>
public class MiscOpsTests
{
    [Fact]
    public void LpNormHandComputed()
    {
        float[] x = [3, 4, 0, 0, -1, 1];
        var y = new float[6];
        MiscOps.LpNorm(x, y, 3, 2, 1, 2);
        Assert.Equal([0.6f, 0.8f, 0, 0, -(float)(1 / Math.Sqrt(2)), (float)(1 / Math.Sqrt(2))], y);
        MiscOps.LpNorm(x, y, 3, 2, 1, 1);
        Assert.Equal([3f / 7, 4f / 7, 0, 0, -0.5f, 0.5f], y);
        MiscOps.LpNorm(x, y, 1, 3, 2, 1); // along axis 0 of [3, 2]
        Assert.Equal([0.75f, 0.8f, 0, 0, -0.25f, 0.2f], y);
        Assert.Throws<ArgumentOutOfRangeException>(() => MiscOps.LpNorm(x, new float[6], 3, 2, 1, 3));
    }

    [Fact]
    public void InstanceNormHandComputed()
    {
        // One sample, two channels of two elements: [1, 3] and [4, 6] (variance 1 each).
        float[] x = [1, 3, 4, 6];
        var y = new float[4];
        MiscOps.InstanceNorm(x, [2f, 1f], [0.5f, -1f], y, 1, 2, 2, 0f);
        Assert.Equal([-1.5f, 2.5f, -2f, 0f], y);
    }

    [Fact]
    public void SignTanFillHandComputed()
    {
        var y = new float[4];
        MiscOps.Sign([-2f, 0f, 3f, float.NaN], y);
        Assert.Equal([-1f, 0, 1, float.NaN], y);
        var yl = new long[3];
        MiscOps.Sign([-5L, 0, 7], yl);
        Assert.Equal([-1L, 0, 1], yl);
        var t = new float[2];
        MiscOps.Tan([0f, 1f], t);
        Assert.Equal([0f, (float)Math.Tan(1)], t);
        var b = new bool[3];
        MiscOps.Fill(b.AsSpan(), true);
        Assert.All(b, Assert.True);
        var c = new long[6];
        MiscOps.ConstantOfShape([2L, 3L], c.AsSpan(), [2, 3], 7L);
        Assert.All(c, v => Assert.Equal(7L, v));
        Assert.Throws<ArgumentException>(() => MiscOps.ConstantOfShape([3L, 2L], new long[6].AsSpan(), [2, 3], 7L));
    }
}

/// <summary>RuntimeSlice against hand-computed slices.</summary>
public class RuntimeSliceTests
{
    private static readonly float[] X = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]; // [3, 4]

    [Fact]
    public void SlicesLikeTheSpec()
    {
        var y = new float[4];
        RuntimeSlice.Run(X, [1L, 0L], [3L, 2L], ReadOnlySpan<long>.Empty, ReadOnlySpan<long>.Empty, y.AsSpan(), [3, 4], [2, 2]);
        Assert.Equal([4f, 5, 8, 9], y);
        y = new float[6]; // axis 1 reversed with step -2 from the end: columns 3, 1
        RuntimeSlice.Run(X, [-1L], [long.MinValue], [-1L], [-2L], y.AsSpan(), [3, 4], [3, 2]);
        Assert.Equal([3f, 1, 7, 5, 11, 9], y);
        y = new float[4]; // out-of-bounds end clamps
        RuntimeSlice.Run(X, [2L], [1000L], [0L], [1L], y.AsSpan(), [3, 4], [1, 4]);
        Assert.Equal([8f, 9, 10, 11], y);
    }

    [Fact]
    public void ThrowsWhenTheRunTimeShapeDiffers()
    {
        Assert.Throws<ArgumentException>(() => RuntimeSlice.Run(X, [0L], [2L], [0L], ReadOnlySpan<long>.Empty, new float[4].AsSpan(), [3, 4], [1, 4]));
        Assert.Throws<ArgumentException>(() => RuntimeSlice.Run(X, [0L], [2L], [0L], [0L], new float[8].AsSpan(), [3, 4], [2, 4]));
        Assert.Throws<ArgumentException>(() => RuntimeSlice.Run(X, [0L, 0L], [1L, 1L], [0L, -2L], ReadOnlySpan<long>.Empty, new float[1].AsSpan(), [3, 4], [1, 1]));
    }
}

/// <summary>MixedPow against hand-computed values.</summary>
public class MixedPowTests
{
    [Fact]
    public void PowAcrossTypes()
    {
        var yf = new float[3];
        MixedPow.Pow([1f, 2f, 3f], [4, 5, 6], yf, [3], [1], [1]);
        Assert.Equal([1f, 32, 729], yf);
        var yi = new int[3];
        MixedPow.Pow([1, 2, 3], [4f, 5.5f, 0.5f], yi, [3], [1], [1]);
        Assert.Equal([1, (int)Math.Pow(2, 5.5), 1], yi);
        var yl = new long[4]; // broadcast exponent; negative exponents truncate
        MixedPow.Pow([2L, -1L, 1L, 5L], [-1L], yl, [4], [1], [0]);
        Assert.Equal([0L, -1, 1, 0], yl);
        MixedPow.Pow([3L, 2L], [40L], yl.AsSpan(0, 2), [2], [1], [0]);
        Assert.Equal([unchecked((long)(ulong)(System.Numerics.BigInteger.Pow(3, 40) & ulong.MaxValue)), 1L << 40], yl[..2]);
        Assert.Throws<DivideByZeroException>(() => MixedPow.Pow([0], [-1], new int[1], [1], [1], [1]));
    }
}

/// <summary>MaxPoolIndices against hand-computed values and indices.</summary>
public class MaxPoolIndicesTests
{
    [Fact]
    public void ValuesAndIndicesRowAndColumnMajor()
    {
        // Two channels of [2, 3]; a 2x2 window, stride 1: outputs [1, 2] per channel.
        float[] x = [1, 5, 2, 4, 3, 5, /* channel 1 */ 0, 0, 0, 0, 9, 0];
        var y = new float[4]; var idx = new long[4];
        MaxPoolIndices.Run(x, y, idx, 2, [2, 3], [1, 2], [2, 2], [1, 1], [0, 0], [1, 1], false);
        Assert.Equal([5f, 5, 9, 9], y);
        Assert.Equal([1L, 1, 10, 10], idx); // first maximum wins: x[1] before x[5]
        MaxPoolIndices.Run(x, y, idx, 2, [2, 3], [1, 2], [2, 2], [1, 1], [0, 0], [1, 1], true);
        // Column-major spatial index of (h, w) is w * 2 + h: (0, 1) → 2; channel 1 (1, 1) → 3, plus 6.
        Assert.Equal([2L, 2, 9, 9], idx);
    }
}

/// <summary>ClipInteger against hand-computed values.</summary>
public class ClipIntegerTests
{
    [Fact]
    public void ClipsWithOptionalBounds()
    {
        var y = new sbyte[4];
        ClipInteger.Clip([-128, -5, 5, 127], [(sbyte)-10], [(sbyte)10], y);
        Assert.Equal([(sbyte)-10, -5, 5, 10], y);
        ClipInteger.Clip([-128, -5, 5, 127], ReadOnlySpan<sbyte>.Empty, [(sbyte)0], y);
        Assert.Equal([(sbyte)-128, -5, 0, 0], y);
        var yl = new long[2];
        ClipInteger.Clip([long.MinValue, long.MaxValue], [0L], ReadOnlySpan<long>.Empty, yl);
        Assert.Equal([0L, long.MaxValue], yl);
    }
}

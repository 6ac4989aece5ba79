namespace EdgeCompile.Kernels.Tests;

public class ElementwiseTypedTests
{
    [Fact]
    public void CastFollowsOnnxSemantics()
    {
        float[] x = [1.9f, -1.9f, float.NaN, 3e10f, -3e10f, 0f, 300.5f];
        var l = new long[x.Length];
        Elementwise.Cast(x, l);
        Assert.Equal(new long[] { 1, -1, 0, 30000001024, -30000001024, 0, 300 }, l);
        var b = new byte[x.Length];
        Elementwise.Cast(x, b);
        Assert.Equal(new byte[] { 1, 255, 0, unchecked((byte)30000001024L), unchecked((byte)-30000001024L), 0, 44 }, b);
        var flags = new bool[x.Length];
        Elementwise.Cast(x, flags);
        Assert.Equal(new[] { true, true, true, true, true, false, true }, flags);
        var f = new float[3];
        Elementwise.Cast(new long[] { 16777217, -5, 0 }, f);
        Assert.Equal(new float[] { 16777216f, -5f, 0f }, f);
        var s = new sbyte[2];
        Elementwise.Cast(new int[] { 200, -129 }, s);
        Assert.Equal(new sbyte[] { -56, 127 }, s);
        var d = new double[2];
        Elementwise.Cast(new bool[] { true, false }, d);
        Assert.Equal(new double[] { 1, 0 }, d);
        Assert.Throws<ArgumentException>(() => Elementwise.Cast(new float[2], new long[3]));
    }

    [Fact]
    public void CompareLogicAndWhereBroadcast()
    {
        // a [2, 3], b [3] broadcast along rows.
        float[] a = [1, 2, 3, 4, float.NaN, 6];
        float[] b = [2, 2, 2];
        int[] shape = [2, 3], sa = [3, 1], sb = [0, 1];
        var y = new bool[6];
        Elementwise.Compare(CompareOp.Less, a, b, y, shape, sa, sb);
        Assert.Equal(new[] { true, false, false, false, false, false }, y);
        Elementwise.Compare(CompareOp.GreaterOrEqual, a, b, y, shape, sa, sb);
        Assert.Equal(new[] { false, true, true, true, false, true }, y);
        Elementwise.Compare(CompareOp.Equal, new long[] { 2, 5, 2, 2, 2, 7 }, new long[] { 2, 5, 7 }, y, shape, sa, sb);
        Assert.Equal(new[] { true, true, false, true, false, true }, y);
        Elementwise.Compare(CompareOp.Greater, new byte[] { 200, 1, 0, 0, 0, 0 }, new byte[] { 100, 1, 0 }, y, shape, sa, sb);
        Assert.Equal(new[] { true, false, false, false, false, false }, y);

        bool[] p = [true, false, true, false, true, false], q = [true, true, false];
        Elementwise.Logic(LogicOp.And, p, q, y, shape, sa, sb);
        Assert.Equal(new[] { true, false, false, false, true, false }, y);
        Elementwise.Logic(LogicOp.Xor, p, q, y, shape, sa, sb);
        Assert.Equal(new[] { false, true, true, true, false, false }, y);
        Elementwise.Not(p, y);
        Assert.Equal(new[] { false, true, false, true, false, true }, y);

        var w = new long[6];
        Elementwise.Where(new bool[] { true, false, true }, new long[] { 1, 2, 3, 4, 5, 6 }, new long[] { -1 }, w, shape, sb, sa, [0, 0]);
        Assert.Equal(new long[] { 1, -1, 3, 4, -1, 6 }, w);
        Assert.Throws<ArgumentException>(() => Elementwise.Compare(CompareOp.Less, a, new float[2], y, shape, sa, sb));
    }

    [Fact]
    public void IntegerArithmeticMatchesTheReferenceSemantics()
    {
        long[] a = [7, -7, 7, -7, long.MinValue, 5], b = [2, 2, -2, -2, -1, 3];
        int[] shape = [6], s = [1];
        var y = new long[6];
        Elementwise.BinaryInteger(BinaryOp.Div, a, b, y, shape, s, s);
        Assert.Equal(new long[] { 3, -3, -3, 3, long.MinValue, 1 }, y);
        Elementwise.BinaryInteger(BinaryOp.Mod, a, b, y, shape, s, s);
        Assert.Equal(new long[] { 1, 1, -1, -1, 0, 2 }, y);
        Elementwise.BinaryInteger(BinaryOp.FMod, a, b, y, shape, s, s);
        Assert.Equal(new long[] { 1, -1, 1, -1, 0, 2 }, y);
        Elementwise.BinaryInteger(BinaryOp.Add, a, b, y, shape, s, s);
        Assert.Equal(long.MaxValue, y[4]);
        var i8 = new sbyte[2];
        Elementwise.BinaryInteger(BinaryOp.Mul, new sbyte[] { 100, -3 }, new sbyte[] { 2, 5 }, i8, [2], [1], [1]);
        Assert.Equal(new sbyte[] { -56, -15 }, i8);
        Assert.Throws<DivideByZeroException>(() => Elementwise.BinaryInteger(BinaryOp.Div, new int[] { 1 }, new int[] { 0 }, new int[1], [1], [1], [1]));
        var d = new double[3];
        Elementwise.Binary(BinaryOp.Sub, new double[] { 1, 2, 3 }, new double[] { 0.5 }, d, [3], [1], [0]);
        Assert.Equal(new double[] { 0.5, 1.5, 2.5 }, d);
        var f = new float[2];
        Elementwise.Binary(BinaryOp.FMod, new float[] { -7.5f, 7.5f }, new float[] { 2f, -2f }, f, [2], [1], [1]);
        Assert.Equal(new float[] { -1.5f, 1.5f }, f);
    }
}

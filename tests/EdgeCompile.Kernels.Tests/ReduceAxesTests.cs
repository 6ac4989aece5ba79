using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class ReduceAxesTests
{
    /// <summary>A contiguous run of axes through Reduce.Axes equals Reduce.Run's scalar reference on the [outer, axis, inner] view.</summary>
    [Fact]
    public void ContiguousMasksMatchTheThreeDimensionalReference()
    {
        var r = new Random(7);
        foreach (ReduceOp op in Enum.GetValues<ReduceOp>())
            for (int t = 0; t < 10; t++)
            {
                int[] shape = [r.Next(1, 4), r.Next(1, 5), r.Next(1, 4), r.Next(1, 5)];
                int first = r.Next(0, 4), last = r.Next(first, 4);
                var mask = new int[4];
                for (int d = first; d <= last; d++) mask[d] = 1;
                int outer = shape[..first].Aggregate(1, (a, b) => a * b), axis = shape[first..(last + 1)].Aggregate(1, (a, b) => a * b), inner = shape[(last + 1)..].Aggregate(1, (a, b) => a * b);
                var x = op is ReduceOp.Prod or ReduceOp.LogSum ? Check.Data(r, outer * axis * inner, 0.8f, 1.25f) : Check.Data(r, outer * axis * inner);
                var expected = new float[outer * inner];
                Reduce.RunScalar(op, x, expected, outer, axis, inner);
                var y = new float[expected.Length];
                Reduce.Axes(op, x, y, shape, mask);
                Check.Close(expected, y, $"{op} [{string.Join(",", shape)}] axes {first}..{last}");
            }
    }

    [Fact]
    public void NonAdjacentAxesAndRuntimeAxes()
    {
        // x [2, 2, 3]: reduce axes 0 and 2 → y [2].
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        var y = new float[2];
        Reduce.Axes(ReduceOp.Sum, x, y, [2, 2, 3], [1, 0, 1]);
        Assert.Equal(new float[] { 1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12 }, y);
        Reduce.RuntimeAxes(ReduceOp.Max, x, [-1, 0], y, [2, 2, 3], [1, 2, 1], keepDims: true, noopWithEmptyAxes: false);
        Assert.Equal(new float[] { 9, 12 }, y);
        // Axes that give another shape than the compiled one are rejected.
        Assert.Throws<ArgumentException>(() => Reduce.RuntimeAxes(ReduceOp.Max, x, [1], y, [2, 2, 3], [1, 2, 1], true, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Reduce.RuntimeAxes(ReduceOp.Max, x, [3], y, [2, 2, 3], [1, 2, 1], true, false));
        var all = new float[12];
        Reduce.RuntimeAxes(ReduceOp.Sum, x, [], all, [2, 2, 3], [2, 2, 3], true, noopWithEmptyAxes: true);
        Assert.Equal(x, all);
        var one = new float[1];
        Reduce.RuntimeAxes(ReduceOp.Sum, x, [], one, [2, 2, 3], [], false, false);
        Assert.Equal(78f, one[0]);
        Reduce.Axes(ReduceOp.Max, [], one, [0, 3], [1, 1]);
        Assert.Equal(float.NegativeInfinity, one[0]);
    }
}

public class ArgTests
{
    [Fact]
    public void ArgMaxAndArgMinWithTies()
    {
        float[] x = [1, 5, 5, 0, 0, 2];   // [outer 1, axis 3, inner 2]: columns (1,5,0) and (5,0,2)
        var y = new long[2];
        Reduce.Arg(true, x, y, 1, 3, 2, false); Assert.Equal(new long[] { 1, 0 }, y);
        Reduce.Arg(false, x, y, 1, 3, 2, false); Assert.Equal(new long[] { 2, 1 }, y);
        float[] t = [2, 2, 1, 1];
        var z = new long[1];
        Reduce.Arg(true, t, z, 1, 4, 1, false); Assert.Equal(0, z[0]);
        Reduce.Arg(true, t, z, 1, 4, 1, true); Assert.Equal(1, z[0]);
        Reduce.Arg(false, t, z, 1, 4, 1, true); Assert.Equal(3, z[0]);
        Assert.Throws<ArgumentException>(() => Reduce.Arg(true, t, new long[2], 1, 4, 1, false));
    }
}

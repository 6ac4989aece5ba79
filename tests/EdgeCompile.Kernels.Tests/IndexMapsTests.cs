namespace EdgeCompile.Kernels.Tests;

public class IndexMapsTests
{
    [Fact]
    public void GatherFollowsTheMap()
    {
        var x = new[] { 10, 11, 12, 13 };
        var y = new int[5];
        Maps.Gather<int>(x, [3, 0, 0, 2, 1], y);
        Assert.Equal([13, 10, 10, 12, 11], y);
    }

    [Fact]
    public void GatherOrFillFillsMinusOne()
    {
        var x = new[] { 1.5f, 2.5f };
        var y = new float[4];
        Maps.GatherOrFill<float>(x, [-1, 1, 0, -1], y, 9f);
        Assert.Equal([9f, 2.5f, 1.5f, 9f], y);
    }

    [Fact]
    public void Gather2IndexesBothSources()
    {
        var a = new long[] { 1, 2, 3 };
        var b = new long[] { 40, 50 };
        var y = new long[4];
        Maps.Gather2<long>(a, b, [4, 0, 3, 2], y);
        Assert.Equal([50L, 1, 40, 3], y);
    }

    [Fact]
    public void LinearSumsWeightedTapsAndSkipsZeroWeights()
    {
        var x = new[] { 1f, 2f, float.PositiveInfinity };
        var y = new float[2];
        // y0 = 0.25·x0 + 0.75·x1; y1 = x1 with a zero-weight tap on the infinite x2 (no NaN).
        Maps.Linear(x, [0, 1, 1, 2], [0.25f, 0.75f, 1f, 0f], 2, y);
        Assert.Equal(1.75f, y[0]);
        Assert.Equal(2f, y[1]);
    }

    [Fact]
    public void MapsAreBoundsChecked()
    {
        var x = new float[3];
        Assert.Throws<ArgumentException>(() => Maps.Gather<float>(x, [0, 1], new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Maps.Gather<float>(x, [0, 3], new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Maps.Gather<float>(x, [-1, 0], new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Maps.GatherOrFill<float>(x, [-2], new float[1], 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Maps.GatherOrFill<float>(x, [3], new float[1], 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Maps.Gather2<float>(x, new float[2], [5], new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Maps.Gather2<float>(x, new float[2], [-1], new float[1]));
        Assert.Throws<ArgumentException>(() => Maps.Linear(x, [0, 1], [1f, 1f], 2, new float[2]));
        Assert.Throws<ArgumentException>(() => Maps.Linear(x, [0], [1f], 0, new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Maps.Linear(x, [3], [1f], 1, new float[1]));
    }
}

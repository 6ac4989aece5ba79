using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// RuntimeResize against the reference executor (Operators/Resize.cs) over random shapes, parameters and attributes. The
/// kernel computes the same taps in double in the same order, so the results are bit-identical.
/// </summary>
public class RuntimeResizeTests
{
    private static readonly string[] Coordinates = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"];
    private static readonly string[] Nearests = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"];

    private static string Pascal(string snake) => string.Concat(snake.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    [Theory]
    [InlineData("nearest")]
    [InlineData("linear")]
    [InlineData("cubic")]
    public void MatchesTheReferenceExecutor(string mode)
    {
        var r = new Random(mode.Length * 31);
        for (int iter = 0; iter < 80; iter++)
        {
            int rank = r.Next(1, 5);
            var x = Enumerable.Range(0, rank).Select(_ => r.Next(1, 7)).ToArray();
            int[] axes = r.Next(3) == 0 ? Enumerable.Range(0, rank).Where(_ => r.Next(2) == 0).Reverse().ToArray() : Enumerable.Range(0, rank).ToArray();
            if (axes.Length == 0) axes = [rank - 1];
            bool useSizes = r.Next(2) == 0;
            string coord = Coordinates[r.Next(Coordinates.Length)];
            string nearest = Nearests[r.Next(Nearests.Length)];
            string policy = useSizes ? new[] { "stretch", "not_larger", "not_smaller" }[r.Next(3)] : "stretch";
            bool antialias = mode != "nearest" && r.Next(2) == 0;
            bool exclude = mode == "cubic" && r.Next(2) == 0;
            float cubicA = r.Next(2) == 0 ? -0.75f : -0.5f;
            float extrapolation = r.Next(2) == 0 ? 0f : 7.5f;
            float[] scales = useSizes ? [] : axes.Select(_ => new[] { 0.5f, 0.6f, 0.8f, 1f, 1.5f, 2f, 3f, 0.25f }[r.Next(8)]).ToArray();
            long[] sizes = useSizes ? axes.Select(a => (long)r.Next(1, 2 * x[a] + 2)).ToArray() : [];
            float[] roi = coord == "tf_crop_and_resize" ? [.. axes.Select(_ => (float)Math.Round(r.NextDouble() * 0.6 - 0.2, 2)), .. axes.Select(_ => (float)Math.Round(0.5 + r.NextDouble() * 0.7, 2))] : [];

            var g = new GraphBuilder().Opset(19);
            g.Input("x", DataType.Float, x.Select(d => (long)d).ToArray());
            g.Input("roi", DataType.Float, roi.Length);
            g.Input("scales", DataType.Float, scales.Length);
            g.Input("sizes", DataType.Int64, sizes.Length);
            var attrs = new List<EdgeCompile.Compiler.IR.Attribute>
            {
                String("mode", mode), String("coordinate_transformation_mode", coord), String("nearest_mode", nearest),
                String("keep_aspect_ratio_policy", policy), Int("antialias", antialias ? 1 : 0), Int("exclude_outside", exclude ? 1 : 0),
                Float("cubic_coeff_a", cubicA), Float("extrapolation_value", extrapolation), Ints("axes", axes.Select(a => (long)a).ToArray()),
            };
            string[] inputs = useSizes ? ["x", "roi", "", "sizes"] : ["x", "roi", "scales"];
            var y = g.Node("Resize", inputs, 1, [.. attrs])[0];
            g.Output(y, DataType.Float);
            var data = Enumerable.Range(0, x.Aggregate(1, (a, b) => a * b)).Select(_ => (float)Math.Round(r.NextDouble() * 8 - 4, 2)).ToArray();
            var feeds = new Dictionary<string, Tensor>
            {
                ["x"] = Tensor.FromArray(data, x), ["roi"] = Tensor.FromArray(roi, roi.Length),
                ["scales"] = Tensor.FromArray(scales, scales.Length), ["sizes"] = Tensor.FromArray(sizes, sizes.Length),
            };
            var expected = new ReferenceExecutor(g.Build()).Run(feeds)[y];
            int capacity = x.Sum(d => RuntimeResize.TapCapacity(d, Enum.Parse<ResizeMode>(mode, true), antialias));
            var actual = new float[expected.Length];
            RuntimeResize.Run(data, roi, scales, sizes, actual, new int[capacity], new double[capacity], x, expected.Shape, axes,
                Enum.Parse<ResizeMode>(mode, true), Enum.Parse<ResizeCoordinate>(Pascal(coord)), Enum.Parse<ResizeNearest>(Pascal(nearest)),
                Enum.Parse<ResizeAspect>(Pascal(policy)), cubicA, exclude, extrapolation, antialias);
            string what = $"iter {iter}: x {string.Join("x", x)} axes [{string.Join(",", axes)}] {mode} {coord} {nearest} {policy} aa={antialias} ex={exclude} scales [{string.Join(",", scales)}] sizes [{string.Join(",", sizes)}]";
            for (int i = 0; i < actual.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected.As<float>()[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}: y[{i}] = {actual[i]}, reference {expected.As<float>()[i]}");
        }
    }

    [Fact]
    public void UpsampleNearestDoublesEachAxis()
    {
        float[] x = [1, 2, 3, 4];
        var y = new float[16];
        RuntimeResize.Run(x, [], [1f, 1f, 2f, 2f], [], y, new int[4], new double[4], [1, 1, 2, 2], [1, 1, 4, 4], [0, 1, 2, 3],
            ResizeMode.Nearest, ResizeCoordinate.Asymmetric, ResizeNearest.Simple, ResizeAspect.Stretch, -0.75f, false, 0, false);
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], y);
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        var x = new float[4];
        int[] s = [2, 2], o = [4, 4], axes = [0, 1];
        void Run(float[] scales, long[] sizes, float[] y, int scratch, int[]? outShape = null, int[]? ax = null) =>
            RuntimeResize.Run(x, [], scales, sizes, y, new int[scratch], new double[scratch], s, outShape ?? o, ax ?? axes,
                ResizeMode.Linear, ResizeCoordinate.HalfPixel, ResizeNearest.Floor, ResizeAspect.Stretch, -0.75f, false, 0, false);
        Run([2f, 2f], [], new float[16], 8); // fine
        Assert.Throws<ArgumentException>(() => Run([2f, 3f], [], new float[16], 8));            // another output shape
        Assert.Throws<ArgumentException>(() => Run([2f, 2f], [4, 4], new float[16], 8));        // both scales and sizes
        Assert.Throws<ArgumentException>(() => Run([], [], new float[16], 8));                  // neither
        Assert.Throws<ArgumentException>(() => Run([2f], [], new float[16], 8));                // wrong count
        Assert.Throws<ArgumentException>(() => Run([-2f, 2f], [], new float[16], 8));           // non-positive scale
        Assert.Throws<ArgumentException>(() => Run([2f, 2f], [], new float[15], 8));            // y length
        Assert.Throws<ArgumentException>(() => Run([2f, 2f], [], new float[16], 7));            // scratch
        Assert.Throws<ArgumentException>(() => Run([2f, 2f], [], new float[16], 8, ax: [0, 0])); // repeated axis
        Assert.Throws<ArgumentException>(() => Run([], [4, -1], new float[16], 8));             // negative size
    }

    private static readonly int[] InShape = [1, 3, 8, 8], OutShape = [1, 3, 12, 12], AllAxes = [0, 1, 2, 3];

    [Fact]
    public void RunDoesNotAllocate()
    {
        var x = new float[192];
        var y = new float[432];
        float[] scales = [1f, 1f, 1.5f, 1.5f];
        int cap = InShape.Sum(d => RuntimeResize.TapCapacity(d, ResizeMode.Cubic, true));
        var idx = new int[cap];
        var w = new double[cap];
        void Run() => RuntimeResize.Run(x, [], scales, [], y, idx, w, InShape, OutShape, AllAxes, ResizeMode.Cubic, ResizeCoordinate.HalfPixel,
            ResizeNearest.Floor, ResizeAspect.Stretch, -0.75f, true, 0, true);
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

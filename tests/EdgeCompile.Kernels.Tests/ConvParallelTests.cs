using CsCheck;
using Check = EdgeCompile.Kernels.Tests.Support.Check;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// Tests that use the process-wide <see cref="WorkerPool"/> run one at a time and alone (its busy fallback and the
/// allocation count would otherwise see other tests' calls).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkerPoolCollection
{
    public const string Name = "WorkerPool";
}

/// <summary>
/// The multi-threaded convolution (<see cref="Conv.Conv2DParallel"/>, metadata Threads): each part is the single-thread
/// core on a range of output channels that starts at a multiple of the path's channel tile, so the result must be
/// bit-identical to the serial call on every path this machine runs (compared as bits, NaN never expected), for any part
/// count (more parts than threads are claimed in turn), odd channel counts and parts smaller than a tile.
/// </summary>
[Collection(WorkerPoolCollection.Name)]
public class ConvParallelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>
    /// The worker threads really run parts: over 50 back-to-back parallel calls (a worker spinning between them) on a
    /// machine with two or more processors, workers run at least one part (reported: how many of the 50).
    /// </summary>
    [Fact]
    public void Workers_run_parts()
    {
        var s = new Shape(64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, Activation.Relu);
        var (x, w, b, p0, p1) = Data(s, true, 11);
        var y = new float[s.K * s.Oh * s.Ow];
        for (int i = 0; i < 5; i++) Conv.Conv2DParallel(x, w, b, y, 1, s.C, s.H, s.W, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1, 1, 1, s.Act, p0, p1, threads: 2);
        long before = WorkerPool.WorkerParts;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 50; i++) Conv.Conv2DParallel(x, w, b, y, 1, s.C, s.H, s.W, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1, 1, 1, s.Act, p0, p1, threads: 2);
        long ran = WorkerPool.WorkerParts - before;
        output.WriteLine($"workers ran {ran} of 50 second parts; {sw.Elapsed.TotalMicroseconds / 50:F0} µs per call");
        if (Environment.ProcessorCount > 1) Assert.True(ran > 0, "no part ran on a worker");
    }

    private sealed record Shape(int C, int H, int W, int K, int Kh, int Kw, int Sh, int Sw, int Pt, int Pl, int Group, Activation Act)
    {
        public int Oh => (H + 2 * Pt - Kh) / Sh + 1;
        public int Ow => (W + 2 * Pl - Kw) / Sw + 1;
        public override string ToString() => $"c={C} {H}x{W} k={K} {Kh}x{Kw} s={Sh},{Sw} p={Pt},{Pl} g={Group} {Act}";
    }

    private static (float[] X, float[] W, float[] Bias, float P0, float P1) Data(Shape s, bool bias, int seed)
    {
        var r = new Random(seed);
        Check.ActivationParams(s.Act, out float p0, out float p1);
        return (Check.Data(r, s.C * s.H * s.W), Check.Data(r, s.K * (s.C / s.Group) * s.Kh * s.Kw), bias ? Check.Data(r, s.K) : [], p0, p1);
    }

    /// <summary>Every part count in <paramref name="partCounts"/> on every path: bit-identical to the serial core.</summary>
    private static void Compare(Shape s, bool bias, int seed, params int[] partCounts)
    {
        var (x, w, b, p0, p1) = Data(s, bias, seed);
        foreach (var isa in Check.GemmPaths().Prepend(Isa.Scalar))
        {
            var expected = new float[s.K * s.Oh * s.Ow];
            Conv.Conv2DCore(x, w, b, expected, 1, s.C, s.H, s.W, s.K, s.Kh, s.Kw, s.Oh, s.Ow, s.Sh, s.Sw, s.Pt, s.Pl, 1, 1, s.Group, s.Act, p0, p1, isa);
            // Channel parts always; pixel parts where the shape allows them (1x1 over a large plane, a vector path).
            bool pixelsApply = Conv.PixelSplit(isa, s.C, s.H, s.W, s.K, s.Kh, s.Kw, s.Oh, s.Ow, s.Sh, s.Sw, s.Pt, s.Pl, s.Group);
            foreach (bool pixels in pixelsApply ? new[] { false, true } : [false])
            {
                int unit = pixels ? Conv.PixelUnit : Conv.ParallelUnit(isa, s.C, s.K, s.Kh, s.Kw, s.Oh, s.Ow, s.Sh, s.Sw, 1, 1, s.Group);
                foreach (int parts in partCounts)
                {
                    var y = new float[expected.Length];
                    Array.Fill(y, float.NaN);   // every output must be written
                    Conv.Conv2DParallelCore(x, w, b, y, 1, s.C, s.H, s.W, s.K, s.Kh, s.Kw, s.Oh, s.Ow, s.Sh, s.Sw, s.Pt, s.Pl, 1, 1, s.Group, s.Act, p0, p1, isa, unit, parts, pixels);
                    for (int i = 0; i < y.Length; i++)
                        if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                            Assert.Fail($"{s} {isa} unit={unit} pixels={pixels} parts={parts}: y[{i}] = {y[i]:R}, serial {expected[i]:R}");
                }
                if (pixels) s_pixelSplits++;
            }
        }
    }

    /// <summary>The benchmark models' layers: MobileNetV2's stem, 1x1 expansions/projections and depthwise 3x3 (stride 1 and 2),
    /// ResNet-18's 3x3 convolutions (the row-tile and channel-tile paths) and its stem 7x7/2.</summary>
    [Theory]
    [InlineData(3, 224, 32, 3, 2, 1, 1)]
    [InlineData(16, 112, 96, 1, 1, 0, 1)]
    [InlineData(96, 56, 24, 1, 1, 0, 1)]
    [InlineData(32, 112, 32, 3, 1, 1, 32)]
    [InlineData(96, 112, 96, 3, 2, 1, 96)]
    [InlineData(144, 56, 144, 3, 1, 1, 144)]
    [InlineData(64, 56, 64, 3, 1, 1, 1)]
    [InlineData(128, 28, 128, 3, 1, 1, 1)]
    [InlineData(256, 14, 256, 3, 1, 1, 1)]
    [InlineData(3, 224, 64, 7, 2, 3, 1)]
    public void Model_layers_are_bit_identical(int c, int hw, int k, int ks, int stride, int pad, int group)
        => Compare(new Shape(c, hw, hw, k, ks, ks, stride, stride, pad, pad, group, Activation.Relu), true, c * 31 + k, 2, 3, 4);

    private static int s_pixelSplits;

    /// <summary>
    /// 1x1 convolutions split by output pixels: planes of 256 pixels and more (a multiple of 16 or not: the last part keeps
    /// the column tail), MobileNetV2's 96->24 56x56 projection, few output channels, and a 7x7 plane (below the pixel
    /// threshold: channel parts only). The pixel split must have been compared.
    /// </summary>
    [Theory]
    [InlineData(144, 56, 56, 24)]
    [InlineData(16, 16, 16, 8)]
    [InlineData(13, 17, 19, 5)]
    [InlineData(32, 20, 33, 40)]
    [InlineData(70, 9, 29, 3)]
    public void One_by_one_pixel_parts_are_bit_identical(int c, int h, int w, int k)
    {
        int before = s_pixelSplits;
        Compare(new Shape(c, h, w, k, 1, 1, 1, 1, 0, 0, 1, Activation.Relu), true, c + h + k, 2, 3, 5);
        if (KernelPaths.IsSupported(Isa.Vector128)) Assert.True(s_pixelSplits > before, "no pixel split was compared");
    }

    /// <summary>
    /// Output-channel counts that keep the whole off the channel-tile path (k not a multiple of 16) or the row-tile path
    /// (k not a multiple of 8) while its parts of 8, 16 or 24 channels would qualify: the parts must stay on the whole's path.
    /// The first shape is the one the random-shape property found (CsCheck seed 8P0Up3f4GmK1: a part took the channel tiles,
    /// 1 ulp off).
    /// </summary>
    [Theory]
    [InlineData(22, 15, 28, 70, Activation.LeakyRelu)]
    [InlineData(16, 14, 28, 40, Activation.Relu)]
    [InlineData(8, 12, 40, 36, Activation.None)]
    [InlineData(12, 9, 64, 20, Activation.Relu)]
    public void Parts_stay_on_the_wholes_path(int c, int h, int w, int k, Activation act)
        => Compare(new Shape(c, h, w, k, 3, 3, 1, 1, 1, 1, 1, act), true, c * 7 + k, 2, 3, 5);

    /// <summary>Odd channel counts (a short last tile), parts smaller than a tile, more parts than tiles (empty parts).</summary>
    [Theory]
    [InlineData(5, 13, 1, 1)]
    [InlineData(7, 37, 3, 1)]
    [InlineData(9, 12, 3, 1)]
    [InlineData(24, 24, 3, 24)]
    [InlineData(13, 13, 3, 13)]
    [InlineData(11, 4, 3, 1)]
    public void Odd_channel_counts_are_bit_identical(int c, int k, int ks, int group)
        => Compare(new Shape(c, 20, 19, k, ks, ks, 1, 1, ks / 2, ks / 2, group, Activation.Clip), k % 2 == 1, c + k, 2, 3, 5, 8);

    /// <summary>Random shapes, group 1 or depthwise, 2 to 6 parts.</summary>
    [Fact]
    public void Random_shapes_are_bit_identical()
    {
        Gen.Select(Gen.Select(Gen.Int[1, 40], Gen.Int[1, 70], Gen.Int[1, 3], Gen.Int[1, 2], Gen.Bool),
                Gen.Select(Gen.Int[4, 30], Gen.Int[4, 30], Gen.Int[2, 6], Gen.Int[0, 7], Gen.Int))
            .Sample(t =>
            {
                var (c, k, ks, stride, depthwise) = t.Item1;
                var (h, w, parts, act, seed) = t.Item2;
                int kk = 2 * ks - 1;
                var s = depthwise ? new Shape(c, h, w, c, 3, 3, stride, stride, 1, 1, c, (Activation)act)
                    : new Shape(c, h, w, k, kk, kk, stride, stride, kk / 2, kk / 2, 1, (Activation)act);
                Compare(s, seed % 2 == 0, seed, parts);
            }, iter: 60);
    }

    /// <summary>
    /// The public entry takes the pool for one image with group 1 or depthwise (the calling thread counts a parallel call)
    /// and gives the serial bytes; a grouped convolution (group 2) stays serial.
    /// </summary>
    [Fact]
    public void Public_entry_uses_the_pool_for_group_1_and_depthwise()
    {
        var cases = new[]
        {
            (new Shape(64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, Activation.Relu), Environment.ProcessorCount > 1),
            (new Shape(32, 20, 20, 32, 3, 3, 1, 1, 1, 1, 32, Activation.Clip), Environment.ProcessorCount > 1),
            (new Shape(32, 20, 20, 32, 3, 3, 1, 1, 1, 1, 2, Activation.Relu), false),
        };
        foreach (var (s, parallel) in cases)
        {
            var (x, w, b, p0, p1) = Data(s, true, 7);
            var expected = new float[s.K * s.Oh * s.Ow];
            var y = new float[expected.Length];
            Conv.Conv2D(x, w, b, expected, 1, s.C, s.H, s.W, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1, 1, s.Group, s.Act, p0, p1);
            int before = WorkerPool.ParallelCallsOnThisThread;
            Conv.Conv2DParallel(x, w, b, y, 1, s.C, s.H, s.W, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1, 1, s.Group, s.Act, p0, p1, threads: 2);
            Assert.Equal(parallel ? 1 : 0, WorkerPool.ParallelCallsOnThisThread - before);
            Assert.Equal(expected, y);
        }
    }

    /// <summary>
    /// A parallel call made while the pool is busy (here: from inside the parts of another parallel call, as a second model
    /// instance running on another thread would) runs its parts serially on its own thread, with the same result.
    /// </summary>
    [Fact]
    public unsafe void A_busy_pool_runs_the_parts_serially()
    {
        var s = new Shape(16, 12, 12, 24, 3, 3, 1, 1, 1, 1, 1, Activation.None);
        var (x, w, b, p0, p1) = Data(s, true, 3);
        var expected = new float[s.K * s.Oh * s.Ow];
        Conv.Conv2DCore(x, w, b, expected, 1, s.C, s.H, s.W, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1, 1, 1, s.Act, p0, p1, KernelPaths.BestGemm);
        int unit = Conv.ParallelUnit(KernelPaths.BestGemm, s.C, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1);
        var nested = new NestedState { Shape = s, X = x, W = w, Bias = b, P0 = p0, P1 = p1, Unit = unit, Y = [new float[expected.Length], new float[expected.Length]], Serial = new int[2], Parallel = new int[2] };
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(nested);
        try
        {
            int outer = WorkerPool.ParallelCallsOnThisThread;
            WorkerPool.Run(&NestedPart, (void*)System.Runtime.InteropServices.GCHandle.ToIntPtr(handle), 2);
            Assert.Equal(1, WorkerPool.ParallelCallsOnThisThread - outer);
        }
        finally { handle.Free(); }
        for (int p = 0; p < 2; p++)
        {
            Assert.Equal(1, nested.Serial[p]);
            Assert.Equal(0, nested.Parallel[p]);
            Assert.Equal(expected, nested.Y[p]);
        }
    }

    private sealed class NestedState
    {
        public required Shape Shape;
        public required float[] X, W, Bias;
        public required float[][] Y;
        public required float P0, P1;
        public required int Unit;
        public required int[] Serial, Parallel;
    }

    private static unsafe void NestedPart(void* state, int part, int parts)
    {
        var st = (NestedState)System.Runtime.InteropServices.GCHandle.FromIntPtr((IntPtr)state).Target!;
        var s = st.Shape;
        int serial = WorkerPool.SerialCallsOnThisThread, parallel = WorkerPool.ParallelCallsOnThisThread;
        Conv.Conv2DParallelCore(st.X, st.W, st.Bias, st.Y[part], 1, s.C, s.H, s.W, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1, 1, 1, s.Act, st.P0, st.P1,
            KernelPaths.BestGemm, st.Unit, 3);
        st.Serial[part] = WorkerPool.SerialCallsOnThisThread - serial;
        st.Parallel[part] = WorkerPool.ParallelCallsOnThisThread - parallel;
    }

    /// <summary>
    /// After the first call (which starts the workers), a parallel call allocates nothing: on the calling thread, strictly;
    /// process-wide (the workers), in at least one of five rounds of 20 calls, since the test host's own threads allocate
    /// now and then.
    /// </summary>
    [Fact]
    public void A_parallel_call_allocates_nothing()
    {
        var s = new Shape(64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1, Activation.Relu);
        var (x, w, b, p0, p1) = Data(s, true, 5);
        var y = new float[s.K * s.Oh * s.Ow];
        void Call() => Conv.Conv2DParallel(x, w, b, y, 1, s.C, s.H, s.W, s.K, 3, 3, s.Oh, s.Ow, 1, 1, 1, 1, 1, 1, 1, s.Act, p0, p1, threads: 2);
        for (int i = 0; i < 3; i++) Call();
        var totals = new List<long>();
        for (int round = 0; round < 5; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true), beforeThread = GC.GetAllocatedBytesForCurrentThread();
            int calls = WorkerPool.ParallelCallsOnThisThread;
            for (int i = 0; i < 20; i++) Call();
            long onThread = GC.GetAllocatedBytesForCurrentThread() - beforeThread, total = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.Equal(Environment.ProcessorCount > 1 ? 20 : 0, WorkerPool.ParallelCallsOnThisThread - calls);
            Assert.True(onThread == 0, $"{onThread} bytes allocated on the calling thread by 20 parallel calls");
            totals.Add(total);
            if (total == 0) break;
        }
        Assert.True(totals[^1] == 0, $"every round allocated process-wide: {string.Join(", ", totals)} bytes");
    }
}

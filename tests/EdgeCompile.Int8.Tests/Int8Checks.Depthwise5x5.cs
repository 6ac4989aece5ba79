using EdgeCompile.Kernels;

namespace EdgeCompile.Int8.Checks;

// The checks of QConv.DepthwiseConv5x5 (linked into the console self-test with Int8Checks.cs).
public static partial class Int8Checks
{
    /// <summary>Random small shapes, both strides, padding 0..2 per side (5x5 layers pad 2).</summary>
    private static void Depthwise5x5()
    {
        var r = new Random(55);
        for (int it = 0; it < 80; it++)
        {
            int stride = 1 + it % 2, c = r.Next(1, 5), bn = r.Next(1, 3), h = r.Next(1, 14), width = r.Next(1, 60);
            Depthwise5x5Case(r, stride, c, bn, h, width, r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3));
        }
    }

    /// <summary>
    /// MobileNetV3/EfficientNet-style 5x5 shapes; planes larger than one band of the AVX2 plane buffer (several bands, the
    /// out-of-image rows of the last band refilled with the zero point); widths around the 16-value steps; many channels on
    /// small planes (the padding written once per call must survive every channel); rows too wide for one band (the
    /// AVX2 path falls back to the reference); and zero allocation.
    /// </summary>
    private static void Depthwise5x5Shapes()
    {
        var r = new Random(56);
        foreach (var (h, stride) in new[] { (112, 2), (56, 1), (28, 2), (14, 1), (7, 1), (5, 1), (5, 2) })
            Depthwise5x5Case(r, stride, 2, 1, h, h, 2, 2, 2, 2);
        Depthwise5x5Case(r, 1, 2, 1, 100, 200, 2, 2, 2, 2);          // stride 1: 2 bands
        Depthwise5x5Case(r, 2, 2, 1, 100, 300, 2, 2, 2, 2);          // stride 2: 3 bands
        Depthwise5x5Case(r, 1, 1, 1, 6, 3300, 2, 2, 2, 2);           // one band does not fit: reference
        int[] sizes = [1, 2, 4, 5, 15, 16, 17, 33];
        foreach (int stride in new[] { 1, 2 })
            foreach (int h in sizes)
                foreach (int width in sizes)
                    Depthwise5x5Case(r, stride, r.Next(1, 3), 1, h, width, r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3));
        foreach (var (h, stride, c) in new[] { (7, 1, 40), (14, 2, 24), (9, 2, 12) })
            Depthwise5x5Case(r, stride, c, 2, h, h, 2, 2, 2, 2);

        var x = Bytes(r, 2 * 8 * 30 * 30); var w = Weights(r, 8 * 25); var y = new byte[2 * 8 * 30 * 30];
        void Call() => QConv.DepthwiseConv5x5(x, 7, w, default, y, 2, 8, 30, 30, 30, 30, 1, 2, 2, [1 << 30], [6], 3, 0, 255);
        Call();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Call();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated != 0) Fail($"QConv.DepthwiseConv5x5: {allocated} bytes in 10 calls");
    }

    /// <summary>One depthwise 5x5 case from a seed (the CsCheck property).</summary>
    public static void Depthwise5x5Seeded(int seed, int stride, int c, int bn, int h, int width, int pt, int pl, int pb, int pr)
        => Depthwise5x5Case(new Random(seed), stride, c, bn, h, width, pt, pl, pb, pr);

    private static void Depthwise5x5Case(Random r, int stride, int c, int bn, int h, int width, int pt, int pl, int pb, int pr)
        => DepthwiseCase(r, 5, stride, c, bn, h, width, pt, pl, pb, pr);
}

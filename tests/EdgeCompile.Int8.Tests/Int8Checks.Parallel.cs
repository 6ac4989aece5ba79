using EdgeCompile.Kernels;

namespace EdgeCompile.Int8.Checks;

/// <summary>
/// The multi-threaded int8 convolutions (metadata Threads): split by output channels into parts of whole 8-channel packed
/// blocks (the last part takes a short block), each part the unchanged core with its own scratch slice. Every path, both
/// weight layouts, per-channel and single requantization constants, 2 to 5 parts (more parts than this machine's threads
/// are claimed in turn, and a part count above the channel blocks leaves parts empty): the same bytes as the serial core.
/// </summary>
public static partial class Int8Checks
{
    private static void ConvParallel()
    {
        var r = new Random(41);
        //                  c    k   kh  s  p   h   w
        ConvParallelCase(r, 16, 96, 1, 1, 0, 28, 28);     // MobileNetV2's 1x1 expansion (smaller plane)
        ConvParallelCase(r, 64, 64, 3, 1, 1, 14, 14);     // ResNet-18's 3x3
        ConvParallelCase(r, 3, 32, 3, 2, 1, 33, 31);      // a stem: stride 2, 3 input channels
        ConvParallelCase(r, 9, 13, 3, 1, 1, 10, 11);      // 13 channels: one block and a short one
        ConvParallelCase(r, 7, 37, 5, 1, 2, 9, 8);        // 37 channels, 5x5
        ConvParallelCase(r, 5, 12, 1, 1, 0, 7, 40);       // 12 channels: one block and a half, so one part (the others empty)
        ConvParallelCase(r, 20, 24, 3, 2, 1, 4, 4);       // a small plane
    }

    private static void ConvParallelCase(Random r, int c, int k, int ks, int stride, int pad, int h, int width)
    {
        int oh = (h + 2 * pad - ks) / stride + 1, ow = (width + 2 * pad - ks) / stride + 1;
        var x = Bytes(r, c * h * width);
        var w = Weights(r, k * c * ks * ks);
        int xz = Zero(r), z = Zero(r);
        var (lo, hi) = Range(r, z);
        var bias = r.Next(2) == 0 ? [] : Enumerable.Range(0, k).Select(_ => r.Next(-5000, 5000)).ToArray();
        bool uniform = r.Next(2) == 0;
        var mult = Enumerable.Range(0, uniform ? 1 : k).Select(_ => Multiplier(r)).ToArray();
        var shifts = Enumerable.Range(0, uniform ? 1 : k).Select(_ => Shift(r, 255L * 127 * c * ks * ks / 4)).ToArray();
        int need = QConv.ScratchLength(c, h, width, k, ks, ks, oh, ow, stride, stride, pad, pad, 1, 1, 1);
        string shape = $"c={c} {h}x{width} k={k} {ks}x{ks} s={stride} p={pad} uniform={uniform}";
        foreach (var layout in new[] { QWeightLayout.N8K4Sums, QWeightLayout.N8K4 })
        {
            var packed = new sbyte[QConv.PackedLength(k, c, ks, ks, 1, layout)];
            QConv.PackWeights(w, packed, k, c, ks, ks, 1, layout);
            foreach (var p in new[] { QIsa.Scalar }.Concat(VectorPaths()))
            {
                var expected = new byte[k * oh * ow];
                QConv.Conv2DCore(p, x, xz, packed, bias, expected, new byte[need], 1, c, h, width, k, ks, ks, oh, ow, stride, stride, pad, pad, 1, 1, 1,
                    mult, shifts, z, lo, hi, null, layout);
                foreach (int parts in new[] { 2, 3, 5 })
                {
                    var y = new byte[expected.Length];
                    QConv.Conv2DParallelCore(p, x, xz, packed, bias, y, new byte[need], 1, c, h, width, k, ks, ks, oh, ow, stride, stride, pad, pad, 1, 1, 1,
                        mult, shifts, z, lo, hi, layout, new byte[(parts - 1) * need], need, parts);
                    Same<byte>(expected, y, $"{p} {layout} Conv2DParallel {parts} parts {shape}");
                }
            }
        }
    }

    private static void DepthwiseParallel()
    {
        var r = new Random(42);
        foreach (var (kSize, c, h, stride) in new[] { (3, 13, 17, 1), (3, 24, 28, 2), (3, 40, 7, 1), (5, 19, 14, 1), (5, 16, 15, 2) })
        {
            int pad = kSize / 2, oh = (h + 2 * pad - kSize) / stride + 1;
            var x = Bytes(r, c * h * h);
            var w = Weights(r, c * kSize * kSize);
            int xz = Zero(r), z = Zero(r);
            var (lo, hi) = Range(r, z);
            var bias = Enumerable.Range(0, c).Select(_ => r.Next(-5000, 5000)).ToArray();
            bool uniform = r.Next(2) == 0;
            var mult = Enumerable.Range(0, uniform ? 1 : c).Select(_ => Multiplier(r)).ToArray();
            var shifts = Enumerable.Range(0, uniform ? 1 : c).Select(_ => Shift(r, 255L * 127 * kSize * kSize / 4)).ToArray();
            foreach (var p in new[] { QIsa.Scalar }.Concat(VectorPaths()))
            {
                var expected = new byte[c * oh * oh];
                QConv.DepthwiseParallelCore(p, kSize, x, xz, w, bias, expected, 1, c, h, h, oh, oh, stride, pad, pad, mult, shifts, z, lo, hi, 1);
                var serial = new byte[expected.Length];
                if (kSize == 3) QConv.DepthwiseCore(p, x, xz, w, bias, serial, 1, c, h, h, oh, oh, stride, pad, pad, mult, shifts, z, lo, hi);
                else QConv.Depthwise5x5Core(p, x, xz, w, bias, serial, 1, c, h, h, oh, oh, stride, pad, pad, mult, shifts, z, lo, hi);
                Same<byte>(serial, expected, $"{p} depthwise {kSize}x{kSize} one part c={c} {h}x{h} s={stride}");
                foreach (int parts in new[] { 2, 3, 5 })
                {
                    var y = new byte[expected.Length];
                    QConv.DepthwiseParallelCore(p, kSize, x, xz, w, bias, y, 1, c, h, h, oh, oh, stride, pad, pad, mult, shifts, z, lo, hi, parts);
                    Same<byte>(expected, y, $"{p} depthwise {kSize}x{kSize} {parts} parts c={c} {h}x{h} s={stride} uniform={uniform}");
                }
            }
        }
    }

    /// <summary>The public entries on layers above the threshold give the serial kernels' bytes, and after a warm-up call allocate nothing.</summary>
    private static void ParallelEntries()
    {
        var r = new Random(43);
        int c = 32, k = 64, h = 28, oh = 28;
        var x = Bytes(r, c * h * h);
        var w = Weights(r, k * c * 9);
        var packed = new sbyte[QConv.PackedLength(k, c, 3, 3, 1)];
        QConv.PackWeights(w, packed, k, c, 3, 3, 1);
        var bias = Enumerable.Range(0, k).Select(_ => r.Next(-5000, 5000)).ToArray();
        var mult = Enumerable.Range(0, k).Select(_ => Multiplier(r)).ToArray();
        var shifts = Enumerable.Range(0, k).Select(_ => Shift(r, 255L * 127 * c * 9 / 4)).ToArray();
        int need = QConv.ScratchLength(c, h, h, k, 3, 3, oh, oh, 1, 1, 1, 1, 1, 1, 1);
        var scratch = new byte[need];
        var partScratch = new byte[QConv.PartScratchLength(c, h, h, k, 3, 3, oh, oh, 1, 1, 1, 1, 1, 1, 1, 2)];
        if (partScratch.Length != need) Fail($"PartScratchLength for 2 threads: {partScratch.Length}, expected {need}");
        var expected = new byte[k * oh * oh];
        var y = new byte[expected.Length];
        QConv.Conv2D(x, 3, packed, bias, expected, scratch, 1, c, h, h, k, 3, 3, oh, oh, 1, 1, 1, 1, 1, 1, 1, mult, shifts, 5, 0, 255);
        void Conv() => QConv.Conv2DParallel(x, 3, packed, bias, y, scratch, 1, c, h, h, k, 3, 3, oh, oh, 1, 1, 1, 1, 1, 1, 1, mult, shifts, 5, 0, 255,
            QWeightLayout.N8K4Sums, partScratch, 2);
        Conv();
        Same<byte>(expected, y, "QConv.Conv2DParallel vs Conv2D");

        var xd = Bytes(r, k * h * h);
        var wd = Weights(r, k * 9);
        var yd = new byte[k * oh * oh];
        var expectedD = new byte[yd.Length];
        QConv.DepthwiseConv3x3(xd, 3, wd, bias, expectedD, 1, k, h, h, oh, oh, 1, 1, 1, mult, shifts, 5, 0, 255);
        void Depthwise() => QConv.DepthwiseConv3x3Parallel(xd, 3, wd, bias, yd, 1, k, h, h, oh, oh, 1, 1, 1, mult, shifts, 5, 0, 255, 2);
        Depthwise();
        Same<byte>(expectedD, yd, "QConv.DepthwiseConv3x3Parallel vs DepthwiseConv3x3");

        for (int i = 0; i < 3; i++) { Conv(); Depthwise(); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) { Conv(); Depthwise(); }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated != 0) Fail($"QConv parallel entries allocated {allocated} bytes in 10 calls");
    }
}

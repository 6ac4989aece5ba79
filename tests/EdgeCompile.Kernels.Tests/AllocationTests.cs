namespace EdgeCompile.Kernels.Tests;

/// <summary>Hot kernels must not allocate: the generated code calls them once per layer per inference.</summary>
public class AllocationTests
{
    // Shape arguments live in static arrays, as in the generated code (its `ints:` tokens).
    private static readonly int[] Shape3 = [2, 8, 99], Strides3 = [792, 99, 1], PerChannel3 = [0, 1, 0];
    private static readonly int[] TransposedShape = [2, 99, 8], TransposedStrides = [792, 1, 99];
    private static readonly int[] PadIn = [2, 8, 9, 11], PadOut = [2, 8, 11, 13], PadBegin = [0, 0, 1, 1];

    [Fact]
    public void HotKernelsDoNotAllocate()
    {
        var x = new float[2 * 8 * 9 * 11];
        var w = new float[8 * 8 * 3 * 3];
        var wDw = new float[8 * 9];
        var w1 = new float[16 * 8];
        var bias = new float[16];
        var yConv = new float[2 * 8 * 9 * 11];
        var y1x1 = new float[2 * 16 * 9 * 11];
        var a = new float[13 * 17];
        var b = new float[17 * 19];
        var c = new float[19];
        var yGemm = new float[13 * 19];
        var pool = new float[2 * 8 * 4 * 5];
        // The packed GEMM path (k >= 64, m >= 16) with a ragged column tail, and MaxPool 3x3/2 over 40-wide rows (its vector step).
        var aBig = new float[24 * 80];
        var bBig = new float[80 * 37];
        var yBig = new float[24 * 37];
        var xWide = new float[2 * 9 * 40];
        var poolWide = new float[2 * 5 * 20];
        var glob = new float[16];
        var ew = new float[x.Length];
        var scale = new float[11];
        var red = new float[2 * 8 * 9];
        var gathered = new float[2 * 8 * 2 * 11];
        long[] idx = [1, -1];
        var padded = new float[2 * 8 * 11 * 13];
        var blob = WeightBlob.FromMemory(new byte[256]);
        for (int i = 0; i < x.Length; i++) x[i] = (i % 17) * 0.1f - 0.8f;

        var kernels = new (string Name, Action Run)[]
        {
            ("Conv.Conv2D", () => Conv.Conv2D(x, w, bias.AsSpan(0, 8), yConv, 2, 8, 9, 11, 8, 3, 3, 9, 11, 1, 1, 1, 1, 1, 1, 1, Activation.Relu, 0, 0)),
            ("Conv.Conv2D", () => Conv.Conv2D(x, wDw, bias.AsSpan(0, 8), yConv, 2, 8, 9, 11, 8, 3, 3, 9, 11, 1, 1, 1, 1, 1, 1, 8, Activation.Clip, 0, 6)),
            ("Conv.Conv2D", () => Conv.Conv2D(x, w1, bias, y1x1, 2, 8, 9, 11, 16, 1, 1, 9, 11, 1, 1, 0, 0, 1, 1, 1, Activation.None, 0, 0)),
            ("Gemm.Run", () => Gemm.Run(a, b, c, yGemm, 13, 17, 19, false, false, 1, 1, 1, 19, Activation.Relu, 0, 0)),
            ("Gemm.Run", () => Gemm.Run(a, b, c, yGemm, 13, 17, 19, false, true, 1, 1, 1, 19, Activation.None, 0, 0)),
            ("Gemm.MatMul", () => Gemm.MatMul(a, b, yGemm, 1, 13, 17, 19, 0, 0)),
            ("Pool.MaxPool2D", () => Pool.MaxPool2D(x, pool, 2, 8, 9, 11, 3, 3, 4, 5, 2, 2, 0, 0, 1, 1)),
            ("Pool.MaxPool2D", () => Pool.MaxPool2D(xWide, poolWide, 1, 2, 9, 40, 3, 3, 5, 20, 2, 2, 1, 1, 1, 1)),
            ("Gemm.Run", () => Gemm.Run(aBig, bBig, [], yBig, 24, 80, 37, false, false, 1, 1, 0, 0, Activation.Sigmoid, 0, 0)),
            ("Pool.AveragePool2D", () => Pool.AveragePool2D(x, pool, 2, 8, 9, 11, 3, 3, 4, 5, 2, 2, 0, 0, 0, 0, false)),
            ("Pool.GlobalAverage", () => Pool.GlobalAverage(x, glob, 16, 99)),
            ("Elementwise.Unary", () => Elementwise.Unary(UnaryOp.Sigmoid, x, ew, 0, 0)),
            ("Elementwise.Unary", () => Elementwise.Unary(UnaryOp.Gelu, x, ew, 0, 0)),
            ("Elementwise.Binary", () => Elementwise.Binary(BinaryOp.Add, x, x, ew, Shape3, Strides3, Strides3)),
            ("Elementwise.Binary", () => Elementwise.Binary(BinaryOp.Mul, x, bias.AsSpan(0, 8), ew, Shape3, Strides3, PerChannel3)),
            ("Normalization.Softmax", () => Normalization.Softmax(x, ew, 2 * 8 * 9, 11, 1, false)),
            ("Normalization.Softmax", () => Normalization.Softmax(x, ew, 2, 8, 99, true)),
            ("Normalization.Softmax", () => Normalization.Softmax(x, ew, 18, 88, 1, false)),   // 512-bit rows, two at a time
            ("Normalization.LayerNorm", () => Normalization.LayerNorm(x, scale, scale, ew, 2 * 8 * 9, 11, 1e-5f)),
            ("Normalization.ChannelAffine", () => Normalization.ChannelAffine(x, bias.AsSpan(0, 8), bias.AsSpan(0, 8), ew, 2, 8, 99)),
            ("Reduce.Run", () => Reduce.Run(ReduceOp.Mean, x, red, 2 * 8 * 9, 11, 1)),
            ("Reduce.Run", () => Reduce.Run(ReduceOp.Max, x, red, 2 * 8, 11, 9)),
            ("Data.StridedCopy<float>", () => Data.StridedCopy<float>(x, ew, 0, TransposedShape, TransposedStrides)),
            ("Data.Gather<float>", () => Data.Gather<float>(x, idx, gathered, 2 * 8, 9, 11)),
            ("Data.PadConstant", () => Data.PadConstant(x, padded, PadIn, PadOut, PadBegin, 0)),
            ("Data.CopyBlocks<float>", () => Data.CopyBlocks<float>(x.AsSpan(0, 16 * 11), padded.AsSpan(0, 16 * 13), 16, 11, 13, 1)),
            ("blob.Get<float>", () => _ = blob.Get<float>(64, 16)),
        };
        var failures = new List<string>();
        for (int k = 0; k < kernels.Length; k++)
        {
            var (name, run) = kernels[k];
            run(); // warm up (JIT, static constructors)
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) run();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated != 0) failures.Add($"#{k} {name}: {allocated} bytes in 20 calls");
        }
        Assert.Empty(failures);
    }
}

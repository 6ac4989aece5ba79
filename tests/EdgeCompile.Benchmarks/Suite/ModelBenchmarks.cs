using BenchmarkDotNet.Attributes;
using EdgeCompile.Benchmarks.Compiled;
using EdgeCompile.Kernels;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// One model per parameter value, batch 1, single thread: the compiled class against ONNX Runtime on the same
/// ONNX file and the same input. Buffers are created in the setup, so a call measures inference only.
/// </summary>
public class ModelBenchmarks
{
    public static IEnumerable<string> Models => Selection ?? Catalog.All.Select(m => m.Name);

    /// <summary>Set by the command line (--models) before the run; null = all.</summary>
    public static string[]? Selection { get; set; }

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "";

    private IFloatModel _edge = null!, _edgeInt8 = null!;
    private float[] _input = [], _output = [];
    private OrtRunner _ort = null!, _ortQdq = null!;

    [GlobalSetup]
    public void Setup()
    {
        var m = Catalog.Get(Model);
        _input = Catalog.Input(m.InputLength);
        _output = new float[m.OutputLength];
        _edge = m.Create();
        _edgeInt8 = m.CreateInt8();
        _ort = new OrtRunner(m.OnnxPath, _input, m.OutputLength);
        _ortQdq = new OrtRunner(m.Int8Onnx, _input, m.OutputLength);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort.Dispose();
        _ortQdq.Dispose();
    }

    [Benchmark(Description = "EdgeCompile float")]
    public void EdgeCompileFloat() => _edge.Run(_input, _output);

    [Benchmark(Baseline = true, Description = "ORT float")]
    public void OrtFloat() => _ort.Run();

    [Benchmark(Description = "EdgeCompile int8")]
    public void EdgeCompileInt8() => _edgeInt8.Run(_input, _output);

    /// <summary>ONNX Runtime on the QDQ model our build exports for the same int8 variant (ExportQuantizedOnnx).</summary>
    [Benchmark(Description = "ORT on our QDQ export")]
    public void OrtQdq() => _ortQdq.Run();
}

/// <summary>
/// Kernel throughput, single thread: float GEMM and a 3x3 convolution in GFLOPS (2 flops per multiply-add) next to the
/// CPU's theoretical float32 peak, and the int8 kernels (QGemm, QConv) in GOPS (2 x multiply-adds / median) next to the
/// int8 peak of the instruction they use (SuiteReport.Machine). Int8 data are random u8 activations and s8 weights in
/// [-127, 127] with per-channel requantization: the speed does not depend on the values.
/// </summary>
public class KernelBenchmarks
{
    public const int GemmSize = 512;
    // A ResNet stage-1 convolution: 64 → 64 channels, 56x56, 3x3, pad 1.
    public const int ConvC = 64, ConvK = 64, ConvHW = 56;

    public static double GemmFlops => 2.0 * GemmSize * GemmSize * GemmSize;
    public static double ConvFlops => 2.0 * ConvK * ConvC * 9 * ConvHW * ConvHW;

    /// <summary>Operations (2 x multiply-adds) per call of each benchmark method; int8 methods start with "Q".</summary>
    public static double Ops(string method) => method switch
    {
        nameof(Gemm512) => GemmFlops,
        nameof(Conv3x3) => ConvFlops,
        nameof(QGemm512) => 2.0 * 512 * 512 * 512,
        nameof(QGemmConvStage1) => 2.0 * 3136 * 576 * 64,
        nameof(QGemmConvStage4) => 2.0 * 49 * 4608 * 512,
        nameof(QConv3x3) => ConvFlops,
        nameof(QConv1x1Expand) => 2.0 * 144 * 24 * 56 * 56,
        nameof(QConv1x1Project) => 2.0 * 24 * 144 * 56 * 56,
        nameof(QConv1x1Wide) => 2.0 * 96 * 16 * 112 * 112,
        nameof(QDepthwise3x3) => 2.0 * 144 * 9 * 56 * 56,
        nameof(QDepthwise3x3S2) => 2.0 * 96 * 9 * 56 * 56,
        _ => throw new ArgumentException($"no operation count for {method}"),
    };

    private float[] _a = [], _b = [], _y = [], _x = [], _w = [], _bias = [], _cy = [];

    // int8: GEMM operands per shape, conv inputs/weights/outputs/scratch, requantization constants
    private readonly Dictionary<string, (byte[] A, sbyte[] W, int[] Bias, byte[] Y, int[] Mult, int[] Shift)> _q = [];
    private byte[] _wx = [], _wy = [], _wScratch = [];
    private sbyte[] _ww = [];
    private byte[] _qx = [], _qy = [], _qScratch = [], _ex = [], _ey = [], _eScratch = [], _px = [], _py = [], _pScratch = [], _dx = [], _dy = [], _d2y = [];
    private sbyte[] _qw = [], _ew = [], _pw = [], _dw = [];
    private int[] _qBias = [], _qMult = [], _qShift = [];

    [GlobalSetup]
    public void Setup()
    {
        int s = GemmSize * GemmSize;
        _a = Catalog.Input(s, 2); _b = Catalog.Input(s, 3); _y = new float[s];
        _x = Catalog.Input(ConvC * ConvHW * ConvHW, 4); _w = Catalog.Input(ConvK * ConvC * 9, 5); _bias = Catalog.Input(ConvK, 6);
        _cy = new float[ConvK * ConvHW * ConvHW];

        var r = new Random(7);
        byte[] U8(int n) { var v = new byte[n]; r.NextBytes(v); return v; }
        sbyte[] S8(int n) { var v = new sbyte[n]; for (int i = 0; i < n; i++) v[i] = (sbyte)r.Next(-127, 128); return v; }
        int[] Mult(int n) => [.. Enumerable.Range(0, n).Select(_ => r.Next(1 << 30, int.MaxValue))];
        int[] Shift(int n) => [.. Enumerable.Range(0, n).Select(_ => 8)];
        foreach (var (name, m, k, n) in new[] { (nameof(QGemm512), 512, 512, 512), (nameof(QGemmConvStage1), 3136, 576, 64), (nameof(QGemmConvStage4), 49, 4608, 512) })
        {
            var packed = new sbyte[QGemm.PackedLength(n, k)];
            QGemm.PackWeights(S8(n * k), packed, n, k);
            _q[name] = (U8(m * k), packed, [.. Enumerable.Range(0, n).Select(_ => r.Next(-10000, 10000))], new byte[m * n], Mult(n), Shift(n));
        }
        _qMult = Mult(256); _qShift = Shift(256); _qBias = [.. Enumerable.Range(0, 256).Select(_ => r.Next(-10000, 10000))];
        (_qx, _qw, _qy, _qScratch) = ConvOperands(64, 64, 3, 56, 56);
        (_ex, _ew, _ey, _eScratch) = ConvOperands(24, 144, 1, 56, 56);
        (_px, _pw, _py, _pScratch) = ConvOperands(144, 24, 1, 56, 56);
        (_wx, _ww, _wy, _wScratch) = ConvOperands(16, 96, 1, 112, 112);
        _dx = U8(144 * 112 * 112); _dw = S8(144 * 9); _dy = new byte[144 * 56 * 56]; _d2y = new byte[96 * 56 * 56];

        (byte[], sbyte[], byte[], byte[]) ConvOperands(int c, int k, int kk, int oh, int ow)
        {
            var packed = new sbyte[QConv.PackedLength(k, c, kk, kk, 1)];
            QConv.PackWeights(S8(k * c * kk * kk), packed, k, c, kk, kk, 1);
            return (U8(c * oh * ow), packed, new byte[k * oh * ow], new byte[QConv.ScratchLength(c, oh, ow, k, kk, kk, oh, ow, 1, 1, kk / 2, kk / 2, 1, 1, 1)]);
        }
    }

    [Benchmark(Description = "Gemm.Run 512x512x512")]
    public void Gemm512() => Gemm.Run(_a, _b, default, _y, GemmSize, GemmSize, GemmSize, false, false, 1f, 0f, 1, 1, Activation.None, 0, 0);

    [Benchmark(Description = "Conv.Conv2D 64x56x56 3x3")]
    public void Conv3x3() => Conv.Conv2D(_x, _w, _bias, _cy, 1, ConvC, ConvHW, ConvHW, ConvK, 3, 3, ConvHW, ConvHW,
        1, 1, 1, 1, 1, 1, 1, Activation.Relu, 0, 0);

    private void RunQGemm(string name, int m, int k, int n)
    {
        var q = _q[name];
        QGemm.Run(q.A, 128, q.W, q.Bias, q.Y, m, k, n, q.Mult, q.Shift, 128, 0, 255);
    }

    [Benchmark(Description = "QGemm.Run 512x512x512 (m x k x n)")]
    public void QGemm512() => RunQGemm(nameof(QGemm512), 512, 512, 512);

    [Benchmark(Description = "QGemm.Run 3136x576x64 (ResNet 3x3 64ch 56x56 as a GEMM)")]
    public void QGemmConvStage1() => RunQGemm(nameof(QGemmConvStage1), 3136, 576, 64);

    [Benchmark(Description = "QGemm.Run 49x4608x512 (ResNet 3x3 512ch 7x7 as a GEMM)")]
    public void QGemmConvStage4() => RunQGemm(nameof(QGemmConvStage4), 49, 4608, 512);

    [Benchmark(Description = "QConv.Conv2D 64->64 56x56 3x3 pad 1 (ResNet stage 1)")]
    public void QConv3x3() => QConv.Conv2D(_qx, 3, _qw, _qBias.AsSpan(0, 64), _qy, _qScratch, 1, 64, 56, 56, 64, 3, 3, 56, 56, 1, 1, 1, 1, 1, 1, 1,
        _qMult.AsSpan(0, 64), _qShift.AsSpan(0, 64), 0, 0, 255);

    [Benchmark(Description = "QConv.Conv2D 24->144 56x56 1x1 (MobileNetV2 expand)")]
    public void QConv1x1Expand() => QConv.Conv2D(_ex, 3, _ew, _qBias.AsSpan(0, 144), _ey, _eScratch, 1, 24, 56, 56, 144, 1, 1, 56, 56, 1, 1, 0, 0, 1, 1, 1,
        _qMult.AsSpan(0, 144), _qShift.AsSpan(0, 144), 0, 0, 255);

    [Benchmark(Description = "QConv.Conv2D 144->24 56x56 1x1 (MobileNetV2 project)")]
    public void QConv1x1Project() => QConv.Conv2D(_px, 3, _pw, _qBias.AsSpan(0, 24), _py, _pScratch, 1, 144, 56, 56, 24, 1, 1, 56, 56, 1, 1, 0, 0, 1, 1, 1,
        _qMult.AsSpan(0, 24), _qShift.AsSpan(0, 24), 0, 0, 255);

    [Benchmark(Description = "QConv.Conv2D 16->96 112x112 1x1 (MobileNetV2 first expand)")]
    public void QConv1x1Wide() => QConv.Conv2D(_wx, 3, _ww, _qBias.AsSpan(0, 96), _wy, _wScratch, 1, 16, 112, 112, 96, 1, 1, 112, 112, 1, 1, 0, 0, 1, 1, 1,
        _qMult.AsSpan(0, 96), _qShift.AsSpan(0, 96), 0, 0, 255);

    [Benchmark(Description = "QConv.DepthwiseConv3x3 144ch 56x56 stride 1")]
    public void QDepthwise3x3() => QConv.DepthwiseConv3x3(_dx.AsSpan(0, 144 * 56 * 56), 3, _dw, _qBias.AsSpan(0, 144), _dy, 1, 144, 56, 56, 56, 56, 1, 1, 1,
        _qMult.AsSpan(0, 144), _qShift.AsSpan(0, 144), 0, 0, 255);

    [Benchmark(Description = "QConv.DepthwiseConv3x3 96ch 112x112 stride 2")]
    public void QDepthwise3x3S2() => QConv.DepthwiseConv3x3(_dx.AsSpan(0, 96 * 112 * 112), 3, _dw.AsSpan(0, 96 * 9), _qBias.AsSpan(0, 96), _d2y, 1, 96, 112, 112, 56, 56, 2, 1, 1,
        _qMult.AsSpan(0, 96), _qShift.AsSpan(0, 96), 0, 0, 255);
}

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
/// Kernel throughput, single thread: float GEMM and a 3x3 convolution, in GFLOPS (2 flops per multiply-add)
/// next to the CPU's theoretical float32 peak (SuiteReport.Machine).
/// </summary>
public class KernelBenchmarks
{
    public const int GemmSize = 512;
    // A ResNet stage-1 convolution: 64 → 64 channels, 56x56, 3x3, pad 1.
    public const int ConvC = 64, ConvK = 64, ConvHW = 56;

    public static double GemmFlops => 2.0 * GemmSize * GemmSize * GemmSize;
    public static double ConvFlops => 2.0 * ConvK * ConvC * 9 * ConvHW * ConvHW;

    private float[] _a = [], _b = [], _y = [], _x = [], _w = [], _bias = [], _cy = [];

    [GlobalSetup]
    public void Setup()
    {
        int s = GemmSize * GemmSize;
        _a = Catalog.Input(s, 2); _b = Catalog.Input(s, 3); _y = new float[s];
        _x = Catalog.Input(ConvC * ConvHW * ConvHW, 4); _w = Catalog.Input(ConvK * ConvC * 9, 5); _bias = Catalog.Input(ConvK, 6);
        _cy = new float[ConvK * ConvHW * ConvHW];
    }

    [Benchmark(Description = "Gemm.Run 512x512x512")]
    public void Gemm512() => Gemm.Run(_a, _b, default, _y, GemmSize, GemmSize, GemmSize, false, false, 1f, 0f, 1, 1, Activation.None, 0, 0);

    [Benchmark(Description = "Conv.Conv2D 64x56x56 3x3")]
    public void Conv3x3() => Conv.Conv2D(_x, _w, _bias, _cy, 1, ConvC, ConvHW, ConvHW, ConvK, 3, 3, ConvHW, ConvHW,
        1, 1, 1, 1, 1, 1, 1, Activation.Relu, 0, 0);
}

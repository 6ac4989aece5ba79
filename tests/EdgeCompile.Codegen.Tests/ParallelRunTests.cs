using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Kernels;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// Metadata Threads (docs/benchmarks.md, "Multi-threaded Run"): the large convolutions of the plan call the multi-threaded
/// kernels, the generated class with Threads 2 computes exactly what the Threads 1 class computes (float and int8, bit for
/// bit), allocates nothing per Run, Threads 1 leaves the plan unchanged, and bad values are EDGE2001.
/// </summary>
public class ParallelRunTests
{
    /// <summary>
    /// [1,16,50,50] → 1x1 16→48 + Relu6 → depthwise 3x3 + Relu6 → 3x3 48→24 + Relu → 3x3 24→13 (13 channels: a short last
    /// tile). Every convolution is over <see cref="ParallelCalls.MinMacs"/> (the depthwise one by 8%); then a 3x3 stride-2
    /// 13→8 convolution on a 25x25 plane stays under it (0.2 M multiply-adds) and serial.
    /// </summary>
    private static Model Net()
    {
        var g = BlockGraph.New(11);
        string x = g.Input("x", 1, 16, 50, 50);
        string h = g.Relu6(g.Conv(x, 16, 48, 1));
        h = g.Relu6(g.Conv(h, 48, 48, 3, pad: 1, group: 48));
        h = g.Relu(g.Conv(h, 48, 24, 3, pad: 1));
        h = g.Conv(h, 24, 13, 3, pad: 1);
        string y = g.Conv(h, 13, 8, 3, stride: 2, pad: 1);
        return g.Output(y, "y", 1, 8, 25, 25).Build(13);
    }

    /// <summary>
    /// x[64,96] → MatMul+Add (a Gemm of 64 rows, 1.2 M multiply-adds: split by rows) → Relu → MatMul+Add 192→64 (0.8 M:
    /// serial); p[4,64,64] @ q[4,64,64] (a batched MatMul of 1.05 M: split by matrices).
    /// </summary>
    private static Model ProductsNet()
    {
        var g = BlockGraph.New(12);
        string x = g.Input("x", 64, 96), p = g.Input("p", 4, 64, 64), q = g.Input("q", 4, 64, 64);
        string h = g.Relu(g.Add(g.Node("MatMul", [x, g.Weight("w1", 0.1, 0, 96, 192)]), g.Weight("b1", 0.1, 0, 192)));
        string y = g.Add(g.Node("MatMul", [h, g.Weight("w2", 0.1, 0, 192, 64)]), g.Weight("b2", 0.1, 0, 64));
        string z = g.Node("MatMul", [p, q]);
        return g.Output(y, "y", 64, 64).Output(z, "z", 4, 64, 64).Build(13);
    }

    private static float[] Input(int seed, int length = 16 * 50 * 50)
    {
        var r = new Random(seed);
        var v = new float[length];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        return v;
    }

    [Fact]
    public void Float_Threads_2_products_match_the_Threads_1_class_bit_for_bit()
    {
        var serial = Lowerer.Lower(ProductsNet(), "ParallelProducts1", "Codegen.Parallel");
        var parallel = ParallelCalls.Apply(Lowerer.Lower(ProductsNet(), "ParallelProducts2", "Codegen.Parallel"), 2);
        Assert.Equal(["Gemm.Run", "Gemm.Run", "Gemm.MatMul"], Methods(serial).Where(m => m.StartsWith("Gemm.", StringComparison.Ordinal)).ToArray());
        Assert.Equal(["Gemm.RunParallel", "Gemm.Run", "Gemm.MatMulParallel"], Methods(parallel).Where(m => m.StartsWith("Gemm.", StringComparison.Ordinal)).ToArray());
        CompareGenerated(Prepare(serial, "pg1"), Prepare(parallel, "pg2"), seed => [Input(seed, 64 * 96), Input(seed + 100, 4 * 64 * 64), Input(seed + 200, 4 * 64 * 64)]);
    }

    private static PreparedModel Prepare(CompiledModel compiled, string id) =>
        new(id, "Codegen.Parallel", compiled.ClassName, ArtifactWriter.Plan(compiled, id + ".onnx", "codegen-test"), compiled.Weights,
            compiled.ResourceName, compiled.Inputs, compiled.Outputs);

    private static string[] Methods(CompiledModel m) => [.. m.Calls.Select(c => c.Call.Method)];

    [Fact]
    public void Float_Threads_2_class_matches_the_Threads_1_class_bit_for_bit()
    {
        var serial = Lowerer.Lower(Net(), "ParallelFloat1", "Codegen.Parallel");
        var parallel = ParallelCalls.Apply(Lowerer.Lower(Net(), "ParallelFloat2", "Codegen.Parallel"), 2);
        Assert.Equal(["Conv.Conv2D", "Conv.Conv2D", "Conv.Conv2D", "Conv.Conv2D", "Conv.Conv2D"], Methods(serial));
        Assert.Equal(["Conv.Conv2DParallel", "Conv.Conv2DParallel", "Conv.Conv2DParallel", "Conv.Conv2DParallel", "Conv.Conv2D"], Methods(parallel));
        Assert.Equal(serial.ArenaBytes, parallel.ArenaBytes);   // float parts need no scratch of their own
        Assert.Same(serial, ParallelCalls.Apply(serial, 1));
        CompareGenerated(Prepare(serial, "pf1"), Prepare(parallel, "pf2"), seed => [Input(seed)]);
    }

    [Fact]
    public void Int8_Threads_2_class_matches_the_Threads_1_class_bit_for_bit()
    {
        var model = Net();
        var r = new Random(5);
        var data = new float[16 * 16 * 50 * 50];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(r.NextDouble() * 2 - 1);
        var calibration = CalibrationData.FromArrays([new("x", Tensor.FromArray(data, [16, 16, 50, 50]))], model);
        var quantization = PostTrainingQuantizer.Quantize(model, calibration, new QuantizationOptions { Mode = QuantizationMode.Int8, Method = CalibrationMethod.MinMax });
        var serial = Int8Lowerer.Lower(model, quantization, "ParallelInt8x1", "Codegen.Parallel").Compiled;
        var parallel = ParallelCalls.Apply(Int8Lowerer.Lower(model, quantization, "ParallelInt8x2", "Codegen.Parallel").Compiled, 2);
        var methods = Methods(parallel);
        Assert.Equal(3, methods.Count(m => m == "QConv.Conv2DParallel"));
        Assert.Equal(1, methods.Count(m => m == "QConv.DepthwiseConv3x3Parallel"));
        Assert.Equal(1, methods.Count(m => m == "QConv.Conv2D"));
        // One extra scratch region, for one more part: the largest ScratchLength of the parallel layers (the 3x3 48→24).
        int need = QConv.ScratchLength(48, 50, 50, 24, 3, 3, 50, 50, 1, 1, 1, 1, 1, 1, 1);
        Assert.True(need >= QConv.ScratchLength(24, 50, 50, 13, 3, 3, 50, 50, 1, 1, 1, 1, 1, 1, 1) && need >= QConv.ScratchLength(16, 50, 50, 48, 1, 1, 50, 50, 1, 1, 0, 0, 1, 1, 1));
        Assert.Equal(ArenaPlanner.Align(serial.ArenaBytes) + need, parallel.ArenaBytes);
        CompareGenerated(Prepare(serial, "pi1"), Prepare(parallel, "pi2"), seed => [Input(seed)]);
    }

    private static void CompareGenerated(PreparedModel serial, PreparedModel parallel, Func<int, Array[]> inputs)
    {
        Assert.Contains("Parallel ", parallel.Plan);
        using var assembly = CodegenHarness.Build([serial, parallel], "GeneratedParallel" + serial.Id);
        Assert.True(assembly.Failures.Count == 0, string.Join(Environment.NewLine, assembly.Failures.Values));
        for (int seed = 0; seed < 3; seed++)
        {
            var x = inputs(seed);
            var expectedAll = assembly.Run(serial, x);
            var actualAll = assembly.Run(parallel, x);
            for (int o = 0; o < expectedAll.Length; o++)
            {
                var (expected, actual) = (expectedAll[o], actualAll[o]);
                Assert.Equal(expected.Length, actual.Length);
                if (expected is float[] ef)
                {
                    var af = (float[])actual;
                    for (int i = 0; i < ef.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(ef[i]) == BitConverter.SingleToInt32Bits(af[i]), $"output {o} [{i}]: {af[i]:R}, serial {ef[i]:R}");
                }
                else Assert.Equal((byte[])expected, (byte[])actual);
            }
        }
        Assert.Equal(0L, assembly.AllocatedBytes(parallel, inputs(9), 10));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("two")]
    [InlineData("-1")]
    [InlineData(" 2")]
    public void Bad_Threads_values_are_EDGE2001(string value)
    {
        var e = Assert.Throws<EdgeException>(() => ParallelCalls.Parse(value));
        Assert.Equal(EdgeCodes.InvalidMetadata, e.Code);
    }

    /// <summary>Through <see cref="Compilation.Compile"/>: Threads is in the input hash; Threads 1 writes the same plan as no Threads.</summary>
    [Fact]
    public void Compile_reads_Threads_and_Threads_1_is_the_default_plan()
    {
        string dir = TestPaths.DigitsModelDir;
        string root = Path.Combine(Path.GetTempPath(), $"edge-threads-compile-{Environment.ProcessId}");
        try
        {
            Compilation.Result Compile(string threads) => Compilation.Compile(new CompileRequest
            {
                ModelPath = Path.Combine(dir, "digits.onnx"),
                OutDir = Path.Combine(root, "t" + threads),
                ClassName = "Digits",
                Threads = threads,
            });
            var none = Compile("");
            var one = Compile("1");
            var two = Compile("2");
            string Calls(Compilation.Result r) => string.Join("\n", File.ReadAllLines(r.Paths.Plan).Where(l => l.StartsWith("call ", StringComparison.Ordinal)));
            Assert.Equal(Calls(none), Calls(one));
            Assert.NotEqual(none.InputHash, two.InputHash);
            var e = Assert.Throws<EdgeException>(() => Compile("0"));
            Assert.Equal(EdgeCodes.InvalidMetadata, e.Code);
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}

using System.Globalization;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Compiler.Quantization;
using Xunit.Abstractions;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// The digits sample with Quantization=Int8 (calibrated on digits_calib_x.npy): the generated class runs the real int8
/// kernels; it must match the build-time plan interpreter bit for bit and stay within 1 top-1 point of float.
/// </summary>
public class DigitsInt8Tests(ITestOutputHelper output)
{
    /// <summary>Both weight layouts (x64 targets get <see cref="Kernels.QWeightLayout.N8K4"/>, dot-product targets
    /// <see cref="Kernels.QWeightLayout.N8K4Sums"/>): the generated class passes its layout to every QConv.Conv2D/QGemm.Run.</summary>
    [Theory]
    [InlineData(Kernels.QWeightLayout.N8K4)]
    [InlineData(Kernels.QWeightLayout.N8K4Sums)]
    public void Generated_int8_digit_classifier_is_accurate_small_and_bit_exact_with_the_plan_interpreter(Kernels.QWeightLayout layout)
    {
        var inv = CultureInfo.InvariantCulture;
        string dir = TestPaths.DigitsModelDir;
        string modelPath = Path.Combine(dir, "digits.onnx");
        var test = new DigitsTestSet();
        var (images, labels, count, length) = (test.Images, test.Labels, test.Count, test.Length);

        var floatModel = CodegenHarness.Prepare("digits-f32", modelPath, null, "Codegen.Int8", "DigitClassifierF32");

        using var model = CodegenHarness.Load(modelPath, null);
        Compiler.Passes.FoldStaticShapes.Run(model);
        var calibration = CalibrationData.Load(Path.Combine(dir, "digits_calib_x.npy"), model);
        var quantization = PostTrainingQuantizer.Quantize(model, calibration, new QuantizationOptions { Mode = QuantizationMode.Int8 });
        var lowering = Int8Lowerer.Lower(model, quantization, "DigitClassifierInt8", "Codegen.Int8", layout: layout);
        Assert.Empty(lowering.FloatNodes);
        var compiled = lowering.Compiled;
        string plan = ArtifactWriter.Plan(compiled, "digits.onnx", "codegen-test");
        Assert.All(compiled.Calls.Where(c => c.Call.Method is "QGemm.Run" or "QConv.Conv2D"),
            c => Assert.Equal(new CallArg.Enum("QWeightLayout." + layout), c.Call.Args[^1]));
        var int8Model = new PreparedModel("digits-int8-" + layout, "Codegen.Int8", "DigitClassifierInt8", plan, compiled.Weights, compiled.ResourceName, compiled.Inputs, compiled.Outputs);

        using var assembly = CodegenHarness.Build([floatModel, int8Model], "GeneratedDigitsInt8" + layout);
        Assert.True(assembly.Failures.Count == 0, string.Join(Environment.NewLine, assembly.Failures.Values));

        var interpreter = new PlanInterpreter(compiled);
        var expected = new float[10];
        int floatCorrect = 0, int8Correct = 0;
        for (int i = 0; i < count; i++)
        {
            float[] image = images.AsSpan(i * length, length).ToArray();
            float[] f = (float[])assembly.Run(floatModel, [image])[0];
            float[] q = (float[])assembly.Run(int8Model, [image])[0];
            interpreter.Run([image], [expected]);
            for (int k = 0; k < q.Length; k++)
                Assert.True(BitConverter.SingleToInt32Bits(q[k]) == BitConverter.SingleToInt32Bits(expected[k]),
                    string.Create(inv, $"image {i}, logit {k}: generated {q[k]:R}, plan interpreter {expected[k]:R}"));
            if (DigitsTestSet.ArgMax(f) == labels[i]) floatCorrect++;
            if (DigitsTestSet.ArgMax(q) == labels[i]) int8Correct++;
        }
        double floatTop1 = 100.0 * floatCorrect / count, int8Top1 = 100.0 * int8Correct / count;
        double ratio = (double)compiled.Weights.Length / floatModel.Weights.Length;
        output.WriteLine(string.Create(inv, $"{layout}: top-1: float {floatTop1:F2}% ({floatCorrect}/{count}), int8 {int8Top1:F2}% ({int8Correct}/{count}); weight bytes: float {floatModel.Weights.Length}, int8 {compiled.Weights.Length} ({ratio:F4}x)"));
        Assert.InRange(floatTop1, 98.66, 98.68);
        Assert.True(floatTop1 - int8Top1 <= 1.0, $"int8 top-1 {int8Top1:F2}% is more than 1 point below float {floatTop1:F2}%");
        // int8 weights + int32 biases are 0.257x; n8k4 pads k to 4 and n to 8 (Gemm 64->10 packs 16 channels): 17704 B = 0.2632x
        // without the weight sums (issue 3's target: 0.27x); the sums add 32 B per 8 channels, 640 B here: 0.2727x.
        Assert.True(ratio <= (layout == Kernels.QWeightLayout.N8K4 ? 0.27 : 0.275), $"int8 weights are {ratio:F4}x the float weights");
    }

    /// <summary>8-channel blocks a call's packed weights hold (QGemm.Run: n; QConv.Conv2D: k / group per group).</summary>
    private static long Blocks(KernelCall c) => c.Method switch
    {
        "QGemm.Run" => (((CallArg.Int)c.Args[7]).V + 7) / 8,
        "QConv.Conv2D" => ((CallArg.Int)c.Args[21]).V * ((((CallArg.Int)c.Args[10]).V / ((CallArg.Int)c.Args[21]).V + 7) / 8),
        _ => 0,
    };

    /// <summary>The two layouts differ by exactly the weight sums: 32 bytes per 8-channel block, nothing else.</summary>
    [Fact]
    public void Layouts_differ_by_exactly_the_weight_sums()
    {
        string dir = TestPaths.DigitsModelDir;
        int Bytes(Kernels.QWeightLayout layout, out long blocks)
        {
            using var model = CodegenHarness.Load(Path.Combine(dir, "digits.onnx"), null);
            Compiler.Passes.FoldStaticShapes.Run(model);
            var calibration = CalibrationData.Load(Path.Combine(dir, "digits_calib_x.npy"), model);
            var quantization = PostTrainingQuantizer.Quantize(model, calibration, new QuantizationOptions { Mode = QuantizationMode.Int8 });
            var compiled = Int8Lowerer.Lower(model, quantization, "D", "N", layout: layout).Compiled;
            blocks = compiled.Calls.Sum(c => Blocks(c.Call));
            return compiled.Weights.Length;
        }
        int noSums = Bytes(Kernels.QWeightLayout.N8K4, out long b1), sums = Bytes(Kernels.QWeightLayout.N8K4Sums, out long b2);
        Assert.Equal(b1, b2);
        Assert.True(b1 > 0);
        Assert.Equal(32 * b1, sums - noSums);
        output.WriteLine($"weight bytes: N8K4 {noSums}, N8K4Sums {sums} ({b1} blocks)");
    }
}

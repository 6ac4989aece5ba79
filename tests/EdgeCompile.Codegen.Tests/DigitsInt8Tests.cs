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
    [Fact]
    public void Generated_int8_digit_classifier_is_accurate_small_and_bit_exact_with_the_plan_interpreter()
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
        var lowering = Int8Lowerer.Lower(model, quantization, "DigitClassifierInt8", "Codegen.Int8");
        Assert.Empty(lowering.FloatNodes);
        var compiled = lowering.Compiled;
        string plan = ArtifactWriter.Plan(compiled, "digits.onnx", "codegen-test");
        var int8Model = new PreparedModel("digits-int8", "Codegen.Int8", "DigitClassifierInt8", plan, compiled.Weights, compiled.ResourceName, compiled.Inputs, compiled.Outputs);

        using var assembly = CodegenHarness.Build([floatModel, int8Model], "GeneratedDigitsInt8");
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
        output.WriteLine(string.Create(inv, $"top-1: float {floatTop1:F2}% ({floatCorrect}/{count}), int8 {int8Top1:F2}% ({int8Correct}/{count}); weight bytes: float {floatModel.Weights.Length}, int8 {compiled.Weights.Length} ({ratio:F4}x)"));
        Assert.InRange(floatTop1, 98.66, 98.68);
        Assert.True(floatTop1 - int8Top1 <= 1.0, $"int8 top-1 {int8Top1:F2}% is more than 1 point below float {floatTop1:F2}%");
        // int8 weights + int32 biases are 0.257x; the n8k4 layout adds per-block weight sums (32 B per 8 channels) and pads
        // k to 4 and n to 8 (Gemm 64->10 packs 16 channels): 18344 B = 0.2728x for this small model.
        Assert.True(ratio <= 0.275, $"int8 weights are {ratio:F4}x the float weights");
    }
}

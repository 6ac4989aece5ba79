using System.Globalization;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace EdgeCompile.Codegen.Tests;

/// <summary>The sample model (Samples/DigitRecognizer) compiled to a generated class, compared with ONNX Runtime.</summary>
public class DigitsSampleTests(ITestOutputHelper output)
{
    private const int Images = 100;

    [Fact]
    public void Generated_digit_classifier_matches_onnx_runtime_on_the_first_100_test_images()
    {
        string modelPath = Path.Combine(TestPaths.DigitsModelDir, "digits.onnx");
        var x = NpyFile.Load(Path.Combine(TestPaths.DigitsModelDir, "digits_test_x.npy"));
        var images = x.As<float>();
        int[] imageShape = [1, .. x.Shape[1..]];
        int imageLength = (int)Shapes.Product(imageShape);
        Assert.True(x.Shape[0] >= Images, $"the test set has {x.Shape[0]} images");

        string inputName;
        using (var raw = ModelFile.Load(modelPath)) inputName = raw.Graph.Inputs.Single(i => !raw.Graph.Initializers.Contains(i.Name)).Name;
        var model = CodegenHarness.Prepare("digits", modelPath, new Dictionary<string, int[]> { [inputName] = imageShape }, "Codegen.Samples", "DigitClassifier");
        using var assembly = CodegenHarness.Build([model], "GeneratedDigits");
        Assert.True(assembly.Failures.Count == 0, string.Join(Environment.NewLine, assembly.Failures.Values));

        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            // ORT's per-operator kernels, not its fusions (which legitimately reorder float arithmetic).
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        using var session = new InferenceSession(modelPath, options);
        string outputName = session.OutputMetadata.Keys.Single();

        double worst = 0;
        for (int i = 0; i < Images; i++)
        {
            float[] image = images.AsSpan(i * imageLength, imageLength).ToArray();
            float[] ours = (float[])assembly.Run(model, [image])[0];

            using var input = OrtValue.CreateTensorValueFromMemory(image, imageShape.Select(d => (long)d).ToArray());
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [inputName], [input], [outputName]);
            float[] reference = results[0].GetTensorDataAsSpan<float>().ToArray();

            Assert.Equal(reference.Length, ours.Length);
            for (int k = 0; k < reference.Length; k++)
            {
                double diff = Math.Abs(ours[k] - (double)reference[k]);
                worst = Math.Max(worst, diff);
                Assert.True(diff <= Tolerance.Atol + Tolerance.Rtol * Math.Abs(reference[k]),
                    string.Create(CultureInfo.InvariantCulture, $"image {i}, logit {k}: generated {ours[k]:R}, ONNX Runtime {reference[k]:R}"));
            }
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Images} images: max |generated − ONNX Runtime| = {worst:G3}"));
    }
}

using System.Globalization;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Pruning;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Compiler.Reference;
using Xunit.Abstractions;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// The digits sample pruned (Channels:0.5 with the least-squares re-fit, then Magnitude:0.3): the generated class, whose
/// shapes and constants all shrank and whose weights resource is stored compressed, must match the reference executor on the pruned graph within the generated-code
/// tolerance on every test image, and stay within 1 top-1 point of the unpruned model.
/// </summary>
public class DigitsPrunedTests(ITestOutputHelper output)
{
    [Fact]
    public void Generated_pruned_digit_classifier_matches_the_reference_on_the_pruned_graph()
    {
        var inv = CultureInfo.InvariantCulture;
        string dir = TestPaths.DigitsModelDir;
        string modelPath = Path.Combine(dir, "digits.onnx");
        var test = new DigitsTestSet();
        var (images, labels, count, length) = (test.Images, test.Labels, test.Count, test.Length);

        var dense = CodegenHarness.Prepare("digits-dense", modelPath, null, "Codegen.Pruned", "DigitsDense");
        using var model = CodegenHarness.Load(modelPath, null);
        var calibration = CalibrationData.Load(Path.Combine(dir, "digits_calib_x.npy"), model);
        var report = Pruner.Prune(model, PruningOptions.Parse("Channels:0.5;Magnitude:0.3")!, calibration);
        var reference = new ReferenceExecutor(Pruner.Snapshot(model));
        string inputName = model.Graph.Inputs[0].Name, outputName = model.Graph.Outputs[0].Name;
        // As the build does for magnitude-pruned models: the weights resource is stored compressed and decoded at load.
        var compiled = Compiler.Lowering.Lowerer.Lower(model, "DigitsPruned", "Codegen.Pruned");
        compiled.CompressWeights = true;
        Assert.True(compiled.WeightsCompressed && Kernels.WeightCompression.IsCompressed(compiled.StoredWeights));
        string plan = Compiler.Lowering.ArtifactWriter.Plan(compiled, "digits.onnx", "codegen-test");
        var pruned = new PreparedModel("digits-pruned", "Codegen.Pruned", "DigitsPruned", plan, compiled.StoredWeights, compiled.ResourceName, compiled.Inputs, compiled.Outputs);

        using var assembly = CodegenHarness.Build([dense, pruned], "GeneratedDigitsPruned");
        Assert.True(assembly.Failures.Count == 0, string.Join(Environment.NewLine, assembly.Failures.Values));
        int denseCorrect = 0, prunedCorrect = 0;
        for (int i = 0; i < count; i++)
        {
            float[] image = images.AsSpan(i * length, length).ToArray();
            float[] d = (float[])assembly.Run(dense, [image])[0];
            float[] p = (float[])assembly.Run(pruned, [image])[0];
            var expected = reference.Run(new Dictionary<string, Tensor> { [inputName] = Tensor.FromArray(image, 1, 1, 8, 8) })[outputName];
            Assert.Null(Tolerance.Compare(expected, DataType.Float, expected.Shape, p));
            if (DigitsTestSet.ArgMax(d) == labels[i]) denseCorrect++;
            if (DigitsTestSet.ArgMax(p) == labels[i]) prunedCorrect++;
        }
        double denseTop1 = 100.0 * denseCorrect / count, prunedTop1 = 100.0 * prunedCorrect / count;
        output.WriteLine(string.Create(inv, $"top-1: dense {denseTop1:F2}%, pruned {prunedTop1:F2}%; weight bytes {dense.Weights.Length} -> {compiled.Weights.Length} ({pruned.Weights.Length} stored)"));
        output.WriteLine(report.Markdown());
        Assert.True(denseTop1 - prunedTop1 <= 1.0, $"pruned top-1 {prunedTop1:F2}% vs dense {denseTop1:F2}%");
        Assert.True(pruned.Weights.Length < dense.Weights.Length / 2);
    }
}

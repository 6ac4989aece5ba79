using System.Globalization;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Conformance;
using Xunit.Abstractions;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// The conformance cases of the index-map operators (Resize, Upsample, GatherElements, Trilu, ScatterElements,
/// ScatterND, Pad, Tile) feed their parameters (scales, sizes, roi, indices, k, pads, repeats) as graph inputs. Here
/// those inputs become initializers holding the test data's values, so the constant-parameter lowerings (compile-time
/// index maps, Maps.*) are checked against the expected outputs of every such case.
/// </summary>
public class ConstantParameterCodegenTests(ITestOutputHelper output)
{
    /// <summary>Per op type, the input slots that must be constant for the lowering.</summary>
    private static readonly Dictionary<string, int[]> s_parameterSlots = new(StringComparer.Ordinal)
    {
        ["Resize"] = [1, 2, 3], ["Upsample"] = [1], ["GatherElements"] = [1], ["Trilu"] = [1],
        ["ScatterElements"] = [1], ["ScatterND"] = [1], ["Pad"] = [1, 2, 3], ["Tile"] = [1],
    };

    private sealed record Case(string Id, PreparedModel Model, Tensor[] Inputs, Tensor[] Expected);

    [BackendDataFact]
    public void Index_map_operators_match_the_conformance_outputs_with_constant_parameters()
    {
        var cases = ConformanceRunner.EnumerateCases(TestPaths.BackendTests!).Where(c => c.Suite == "node").ToList();
        var compiled = new List<Case>();
        var notCompiled = new List<string>();
        int counter = 0;
        foreach (var c in cases)
        {
            string id = Path.GetFileName(c.Dir);
            using var model = ModelFile.Load(Path.Combine(c.Dir, "model.onnx"));
            var g = model.Graph;
            if (g.Nodes.Count != 1 || !s_parameterSlots.TryGetValue(g.Nodes[0].OpType, out var slots)) continue;
            var node = g.Nodes[0];
            var runtime = g.Inputs.Where(i => !g.Initializers.Contains(i.Name)).ToList();
            var set = Directory.GetDirectories(c.Dir, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal).FirstOrDefault();
            if (set is null) continue;
            Tensor[] inputs, expected;
            try
            {
                inputs = Files(set, "input_").Select(f => ModelFile.LoadTensor(f)).ToArray();
                expected = Files(set, "output_").Select(f => ModelFile.LoadTensor(f)).ToArray();
            }
            catch (EdgeException) { continue; }
            if (inputs.Length != runtime.Count) continue;
            var frozen = slots.Where(s => s < node.Inputs.Count && node.Inputs[s].Length > 0).Select(s => node.Inputs[s]).ToHashSet(StringComparer.Ordinal);
            var keep = new List<Tensor>();
            var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
            for (int i = 0; i < runtime.Count; i++)
            {
                if (frozen.Contains(runtime[i].Name))
                {
                    g.Initializers.Add(new Constant(runtime[i].Name, inputs[i]));
                    g.Inputs.Remove(runtime[i]);
                }
                else { keep.Add(inputs[i]); shapes[runtime[i].Name] = inputs[i].Shape; }
            }
            try
            {
                FrontEnd.Prepare(model, new FrontEndOptions { InputShapes = shapes });
                string className = "P" + (counter++).ToString("D4", CultureInfo.InvariantCulture);
                compiled.Add(new Case(id, CodegenHarness.Lower(id, model, "model.onnx", "Codegen.ConstantParameters", className), keep.ToArray(), expected));
            }
            catch (EdgeException e) when (e.Code is EdgeCodes.NoKernel or EdgeCodes.DynamicShape or EdgeCodes.UnsupportedSignature or EdgeCodes.UnsupportedDataType)
            {
                notCompiled.Add($"{id}: {e.Message.Split(": no runtime kernel")[0]}");
            }
        }
        var failures = new List<string>();
        using var assembly = CodegenHarness.Build(compiled.Select(c => c.Model).ToList(), "ConstantParameterCases");
        foreach (var c in compiled)
        {
            if (assembly.Failures.TryGetValue(c.Model, out var error)) { failures.Add($"{c.Id}: generated code does not compile: {error}"); continue; }
            try
            {
                var actual = assembly.Run(c.Model, c.Inputs.Select(t => t.Data).ToArray());
                for (int i = 0; i < c.Expected.Length; i++)
                {
                    var o = c.Model.Outputs[i];
                    if (Tolerance.Compare(c.Expected[i], o.Type, o.Shape, actual[i]) is { } diff) failures.Add($"{c.Id} output {i}: {diff}");
                }
            }
            catch (Exception e) { failures.Add($"{c.Id}: Run threw {e.GetType().Name}: {e.Message}"); }
        }
        output.WriteLine($"compiled with constant parameters: {compiled.Count}, failing: {failures.Count}, not compiled: {notCompiled.Count}");
        foreach (var n in notCompiled) output.WriteLine("  not compiled: " + n);
        foreach (var f in failures) output.WriteLine("  FAIL " + f);
        Assert.True(compiled.Count >= 70, $"only {compiled.Count} cases compiled");
        Assert.Empty(failures);
    }

    private static IEnumerable<string> Files(string set, string prefix) =>
        Directory.GetFiles(set, prefix + "*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[prefix.Length..], CultureInfo.InvariantCulture));
}

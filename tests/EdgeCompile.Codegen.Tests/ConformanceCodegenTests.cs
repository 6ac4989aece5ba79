using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Conformance;
using Xunit.Abstractions;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// Every ONNX backend conformance case whose model lowers is compiled to a generated class (the whole chain: front end,
/// lowering, plan, source generator, Roslyn, real kernels) and run on every test data set; the outputs must match the
/// expected ones within <see cref="Tolerance"/>. Cases the lowering rejects (EDGE2101/2102/2103) are counted by reason.
/// </summary>
public class ConformanceCodegenTests(ITestOutputHelper output)
{
    private sealed record DataSet(string Name, Tensor[] Inputs, Tensor[] Expected);

    private sealed record Unit(string Id, string Dir, PreparedModel Model, IReadOnlyList<DataSet> Sets, IReadOnlyList<string> InputNames);

    /// <summary>
    /// Compiled-and-matching units at least (raise it when more compile): a lowering that starts refusing cases it
    /// used to compile (EDGE2101/2102 are not failures) fails here. 1110 before float16/bfloat16/uint32/uint64, the
    /// float-model integer operators, training modes, LRN, backward shape inference, general MatMul and float64 Softmax; 1224 after.
    /// </summary>
    private const int MinimumMatching = 1224;

    /// <summary>Models per Roslyn compilation (one assembly, one load context each).</summary>
    private const int BatchSize = 250;

    [BackendDataFact]
    public void Generated_classes_match_the_conformance_outputs()
    {
        var clock = Stopwatch.StartNew();
        var cases = ConformanceRunner.EnumerateCases(TestPaths.BackendTests!).ToList();
        var units = new ConcurrentBag<Unit>();
        var notCompiled = new ConcurrentBag<(string Id, string Code, string Reason)>();
        var failures = new ConcurrentBag<(string Id, string Detail)>();
        int counter = 0;

        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            string id = c.Suite + "/" + Path.GetFileName(c.Dir);
            try
            {
                foreach (var (shapeKey, sets, shapes) in LoadDataSets(c.Dir, out var inputNames))
                {
                    string unitId = shapeKey.Length == 0 ? id : id + " [" + shapeKey + "]";
                    string className = "M" + Interlocked.Increment(ref counter).ToString("D4", CultureInfo.InvariantCulture);
                    Model model;
                    try
                    {
                        model = CodegenHarness.Load(Path.Combine(c.Dir, "model.onnx"), shapes);
                    }
                    catch (EdgeException e)
                    {
                        notCompiled.Add((unitId, e.Code + " (front end)", Short(e)));
                        continue;
                    }
                    using (model)
                    {
                        try
                        {
                            units.Add(new Unit(unitId, c.Dir, CodegenHarness.Lower(unitId, model, "model.onnx", "Codegen.Cases", className), sets, inputNames));
                        }
                        catch (EdgeException e) when (e.Code is EdgeCodes.NoKernel or EdgeCodes.DynamicShape or EdgeCodes.UnsupportedSignature)
                        {
                            notCompiled.Add((unitId, e.Code, Short(e)));
                        }
                    }
                }
            }
            catch (EdgeException e) when (e.Code == EdgeCodes.UnsupportedDataType)
            {
                notCompiled.Add((id, e.Code + " (front end)", Short(e)));
            }
            catch (NotCompiledException e)
            {
                notCompiled.Add((id, "test data", e.Message));
            }
            catch (Exception e)
            {
                failures.Add((id, "lowering: " + e.GetType().Name + ": " + e.Message));
            }
        });
        var prepared = clock.Elapsed;

        int matching = 0;
        var viaReference = new List<string>();
        var ordered = units.OrderBy(u => u.Id, StringComparer.Ordinal).ToList();
        for (int start = 0; start < ordered.Count; start += BatchSize)
        {
            var batch = ordered.Skip(start).Take(BatchSize).ToList();
            using var assembly = CodegenHarness.Build(batch.Select(u => u.Model).ToList(), "GeneratedCases" + start.ToString(CultureInfo.InvariantCulture));
            foreach (var u in batch)
            {
                if (assembly.Failures.TryGetValue(u.Model, out var error))
                {
                    failures.Add((u.Id, "generated code does not compile: " + error));
                    continue;
                }
                string? problem = RunAndCompare(assembly, u, out bool usedReference);
                if (problem is not null)
                {
                    failures.Add((u.Id, problem));
                    continue;
                }
                matching++;
                if (usedReference) viaReference.Add(u.Id);
            }
        }

        var report = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        report.AppendLine(inv, $"{cases.Count} conformance cases, {ordered.Count} compiled units ({prepared.TotalSeconds:F1} s front end + lowering, {clock.Elapsed.TotalSeconds:F1} s in all)");
        report.AppendLine(inv, $"compiled and matching: {matching}");
        if (viaReference.Count > 0)
        {
            report.AppendLine(inv, $"  of which {viaReference.Count} match the reference executor within {Tolerance.Rtol:G} while the expected data is only within the backend tolerance");
            report.AppendLine(inv, $"  (rtol {ConformanceRunner.Rtol:G}; hand-rounded expected values): {string.Join(", ", viaReference.Order(StringComparer.Ordinal))}");
        }
        report.AppendLine(inv, $"compiled but failing: {failures.Count}");
        report.AppendLine(inv, $"not compiled: {notCompiled.Count}");
        foreach (var byCode in notCompiled.GroupBy(n => n.Code).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            report.AppendLine(inv, $"  {byCode.Key}: {byCode.Count()}");
            foreach (var byReason in byCode.GroupBy(n => n.Reason).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            {
                report.AppendLine(inv, $"    {byReason.Count(),4}  {byReason.Key}");
                // EDGE_CODEGEN_VERBOSE=1 lists the cases behind each reason.
                if (Environment.GetEnvironmentVariable("EDGE_CODEGEN_VERBOSE") == "1")
                    report.AppendLine(inv, $"          {string.Join(", ", byReason.Select(n => n.Id).Order(StringComparer.Ordinal))}");
            }
        }
        output.WriteLine(report.ToString());
        string failing = string.Join(Environment.NewLine, failures.OrderBy(f => f.Id, StringComparer.Ordinal).Select(f => $"  {f.Id}: {f.Detail}"));
        if (failures.Count > 0) output.WriteLine("Failing:" + Environment.NewLine + failing);
        Assert.True(failures.IsEmpty, $"{failures.Count} compiled conformance case(s) fail:{Environment.NewLine}{failing}");
        Assert.True(matching >= MinimumMatching, $"{matching} cases compile and match, fewer than the {MinimumMatching} that did: see the refusals above.");
    }

    private static string? RunAndCompare(ModelAssembly assembly, Unit u, out bool usedReference)
    {
        usedReference = false;
        var m = u.Model;
        foreach (var set in u.Sets)
        {
            if (set.Inputs.Length != m.Inputs.Count) return $"{set.Name}: {set.Inputs.Length} inputs, the class takes {m.Inputs.Count}";
            for (int i = 0; i < m.Inputs.Count; i++)
            {
                if (set.Inputs[i].DataType != m.Inputs[i].Type)
                    return $"{set.Name}: input {i} is {set.Inputs[i].DataType.OnnxName()}, the class takes {m.Inputs[i].Type.OnnxName()}";
            }
            Array[] actual;
            try
            {
                actual = assembly.Run(m, set.Inputs.Select(t => t.Data).ToArray());
            }
            catch (Exception e)
            {
                return $"{set.Name}: Run threw {e.GetType().Name}: {e.Message}";
            }
            if (set.Expected.Length > m.Outputs.Count) return $"{set.Name}: {set.Expected.Length} expected outputs, the class has {m.Outputs.Count}";
            for (int i = 0; i < set.Expected.Length; i++)
            {
                var o = m.Outputs[i];
                string? diff = Tolerance.Compare(set.Expected[i], o.Type, o.Shape, actual[i]);
                if (diff is not null && set.Expected[i].DataType.IsFloat()
                    && ConformanceRunner.Compare(set.Expected[i], new Tensor(o.Type, o.Shape, actual[i])) is null)
                {
                    // Some expected outputs are written with few digits (e.g. 0.1511): within the backend tolerance,
                    // not ours. Then the float oracle decides: the reference executor (computing in double) at ours.
                    usedReference = true;
                    diff = Tolerance.Compare(Reference(u, set)[i], o.Type, o.Shape, actual[i]) is { } refDiff ? diff + "; against the reference executor: " + refDiff : null;
                }
                if (diff is not null) return $"{set.Name} output '{o.OnnxName}': {diff}";
            }
        }
        return null;
    }

    /// <summary>
    /// The case's test data, grouped by input shapes (each distinct set of shapes is compiled separately), with the
    /// shapes to bind. Inputs are positional over the graph inputs that have no initializer.
    /// </summary>
    private static List<(string ShapeKey, List<DataSet> Sets, Dictionary<string, int[]> Shapes)> LoadDataSets(string dir, out List<string> inputNames)
    {
        List<string> runtimeInputs, allInputs;
        using (var raw = ModelFile.Load(Path.Combine(dir, "model.onnx")))
        {
            allInputs = raw.Graph.Inputs.Select(i => i.Name).ToList();
            runtimeInputs = raw.Graph.Inputs.Where(i => !raw.Graph.Initializers.Contains(i.Name)).Select(i => i.Name).ToList();
        }
        inputNames = runtimeInputs;
        var groups = new Dictionary<string, (List<DataSet> Sets, Dictionary<string, int[]> Shapes)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var set in Directory.GetDirectories(dir, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal))
        {
            var inputs = Files(set, "input_").Select(LoadTensor).ToArray();
            var expected = Files(set, "output_").Select(LoadTensor).ToArray();
            if (inputs.Length != runtimeInputs.Count)
            {
                throw new NotCompiledException(inputs.Length == allInputs.Count
                    ? "the test data gives values for initializer-backed inputs (compiled classes treat initializers as constants)"
                    : $"{inputs.Length} input files for {runtimeInputs.Count} graph inputs");
            }
            var shapes = runtimeInputs.Select((name, i) => (name, inputs[i].Shape)).ToDictionary(p => p.name, p => p.Shape, StringComparer.Ordinal);
            string key = string.Join(", ", inputs.Select(t => Shapes.Format(t.Shape)));
            if (!groups.TryGetValue(key, out var g))
            {
                groups[key] = g = (new List<DataSet>(), shapes);
                order.Add(key);
            }
            g.Sets.Add(new DataSet(Path.GetFileName(set), inputs, expected));
        }
        if (order.Count == 0) throw new NotCompiledException("no test data sets");
        return order.Select(k => (order.Count == 1 ? "" : k, groups[k].Sets, groups[k].Shapes)).ToList();
    }

    /// <summary>The reference executor's outputs for a data set, in graph output order.</summary>
    private static Tensor[] Reference(Unit u, DataSet set)
    {
        using var model = ModelFile.Load(Path.Combine(u.Dir, "model.onnx"));
        var inputs = u.InputNames.Select((name, i) => (name, set.Inputs[i])).ToDictionary(p => p.name, p => p.Item2, StringComparer.Ordinal);
        var outputs = new ReferenceExecutor(model).Run(inputs);
        return model.Graph.Outputs.Select(o => outputs[o.Name]).ToArray();
    }

    /// <summary>A test data tensor; sequences and optionals (which compiled classes do not take) are "not compiled".</summary>
    private static Tensor LoadTensor(string path)
    {
        try
        {
            return ModelFile.LoadTensor(path);
        }
        catch (EdgeException e)
        {
            throw new NotCompiledException("the test data is not a plain tensor (a sequence or an optional): " + e.Code);
        }
    }

    private static IEnumerable<string> Files(string set, string prefix) =>
        Directory.GetFiles(set, prefix + "*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[prefix.Length..], CultureInfo.InvariantCulture));

    /// <summary>The reason without the boilerplate (node names vary; the op and the why are what group well).</summary>
    private static string Short(EdgeException e)
    {
        string m = e.Message;
        int cut = m.IndexOf(": no runtime kernel", StringComparison.Ordinal);
        if (cut > 0) m = m[..cut];
        m = System.Text.RegularExpressions.Regex.Replace(m, @" \('[^']*'\)$", "");
        if (m.Length > 160) m = m[..160] + "...";
        return m;
    }

    private sealed class NotCompiledException(string message) : Exception(message);
}

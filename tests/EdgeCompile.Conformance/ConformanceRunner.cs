using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Operators;
using EdgeCompile.Compiler.Passes;
using EdgeCompile.Compiler.Reference;

namespace EdgeCompile.Conformance;

public enum Outcome { Pass, Fail, Unsupported }

public sealed record CaseResult(string Suite, string Name, string PrimaryOp, Outcome Outcome, string Detail, double Seconds)
{
    public string Id => $"{Suite}/{Name}";
}

/// <summary>
/// Runs ONNX backend test cases (model.onnx + test_data_set_*/input_*.pb, output_*.pb): reader → validation →
/// shape inference (checked against the real output shapes) → reference executor → comparison with the
/// ONNX backend-test tolerances (rtol 1e-3, atol 1e-7; exact for integers and bool).
/// </summary>
public static class ConformanceRunner
{
    public const double Rtol = 1e-3, Atol = 1e-7;
    public static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator", "simple"];

    public static IEnumerable<(string Suite, string Dir)> EnumerateCases(string root)
    {
        foreach (var suite in Suites)
        {
            var dir = Path.Combine(root, suite);
            if (!Directory.Exists(dir)) continue;
            foreach (var c in Directory.GetDirectories(dir).OrderBy(d => d, StringComparer.Ordinal))
                if (File.Exists(Path.Combine(c, "model.onnx"))) yield return (suite, c);
        }
    }

    public static List<CaseResult> RunAll(IEnumerable<(string Suite, string Dir)> cases, int parallelism, Action<CaseResult>? progress = null)
    {
        var results = new ConcurrentBag<CaseResult>();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, c =>
        {
            var r = RunCase(c.Suite, c.Dir);
            results.Add(r);
            progress?.Invoke(r);
        });
        return results.OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
    }

    public static CaseResult RunCase(string suite, string dir)
    {
        string name = Path.GetFileName(dir);
        var sw = Stopwatch.StartNew();
        string primary = "?";
        CaseResult Done(Outcome o, string detail) => new(suite, name, primary, o, detail, sw.Elapsed.TotalSeconds);
        Model model;
        try
        {
            model = ModelFile.Load(Path.Combine(dir, "model.onnx"));
        }
        catch (EdgeException e) when (e.Code == EdgeCodes.UnsupportedDataType)
        {
            return Done(Outcome.Unsupported, "data type: " + e.Message);
        }
        catch (Exception e)
        {
            return Done(Outcome.Fail, "load: " + e.Message);
        }
        using var _ = model;
        var ops = AllOps(model.Graph).ToList();
        primary = PrimaryOp(name, ops);

        var unsupportedOps = ops.Select(o => o.OpType + (o.Domain.Length > 0 ? "@" + o.Domain : ""))
            .Where(o => OperatorRegistry.Find(Domain(o), Op(o)) is null && !(Domain(o) == "" && SupportedSet.Required.Contains(Op(o))))
            .Distinct().ToList();
        if (unsupportedOps.Count > 0) return Done(Outcome.Unsupported, "operator: " + string.Join(", ", unsupportedOps));
        var badType = UnsupportedType(model.Graph);
        if (badType is not null) return Done(Outcome.Unsupported, "data type: " + badType);
        var missing = ops.Where(o => OperatorRegistry.Find(o.Domain, o.OpType) is null).Select(o => o.OpType).Distinct().ToList();
        if (missing.Count > 0) return Done(Outcome.Fail, "not implemented: " + string.Join(", ", missing));

        try
        {
            var executor = new ReferenceExecutor(model);
            var runtimeInputs = model.Graph.Inputs.Where(i => !model.Graph.Initializers.Contains(i.Name)).ToList();
            var sets = Directory.GetDirectories(dir, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal).ToList();
            if (sets.Count == 0) return Done(Outcome.Fail, "no test data sets");
            bool shapesChecked = false;
            foreach (var set in sets)
            {
                var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                var inputFiles = Directory.GetFiles(set, "input_*.pb").OrderBy(IndexOf).ToList();
                for (int i = 0; i < inputFiles.Count; i++)
                {
                    var t = ModelFile.LoadTensor(inputFiles[i]);
                    // Inputs are positional over the graph inputs (initializer-backed inputs included when given).
                    var target = inputFiles.Count == model.Graph.Inputs.Count ? model.Graph.Inputs[i].Name : runtimeInputs[i].Name;
                    inputs[target] = t;
                }
                var outputs = executor.Run(inputs);
                var expectedFiles = Directory.GetFiles(set, "output_*.pb").OrderBy(IndexOf).ToList();
                for (int i = 0; i < expectedFiles.Count; i++)
                {
                    var expected = ModelFile.LoadTensor(expectedFiles[i]);
                    var outName = model.Graph.Outputs[i].Name;
                    var actual = outputs[outName];
                    var diff = Compare(expected, actual);
                    if (diff is not null) return Done(Outcome.Fail, $"{Path.GetFileName(set)} output '{outName}': {diff}");
                }
                if (!shapesChecked)
                {
                    shapesChecked = true;
                    var shapeError = CheckInferredShapes(dir, inputs, outputs);
                    if (shapeError is not null) return Done(Outcome.Fail, "shape inference: " + shapeError);
                }
            }
            return Done(Outcome.Pass, "");
        }
        catch (EdgeException e) when (e.Code == EdgeCodes.UnsupportedDataType)
        {
            return Done(Outcome.Unsupported, "data type: " + e.Message);
        }
        catch (Exception e)
        {
            return Done(Outcome.Fail, e is EdgeException ? e.ToString() : e.GetType().Name + ": " + e.Message + " " + e.StackTrace?.Split('\n').FirstOrDefault()?.Trim());
        }
    }

    private static string Op(string s) => s.Split('@')[0];
    private static string Domain(string s) => s.Contains('@') ? s.Split('@')[1] : "";

    private static int IndexOf(string path)
    {
        var f = Path.GetFileNameWithoutExtension(path);
        return int.Parse(f[(f.LastIndexOf('_') + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>Re-loads the model with concrete input shapes and checks every inferred output type against the real outputs.</summary>
    private static string? CheckInferredShapes(string dir, Dictionary<string, Tensor> inputs, Dictionary<string, Tensor> outputs)
    {
        var model = ModelFile.Load(Path.Combine(dir, "model.onnx"));
        using var _ = model;
        GraphValidator.Validate(model.Graph);
        InferShapes.BindInputShapes(model, inputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape));
        try { InferShapes.Run(model); }
        catch (EdgeException e) { return e.ToString(); }
        foreach (var (name, actual) in outputs)
        {
            var t = model.Graph.ValueTypes.TryGetValue(name, out var vt) ? vt : null;
            if (t is null) continue; // nothing inferred: allowed (e.g. data-dependent shapes), not wrong
            if (t.ElemType != actual.DataType) return $"'{name}' inferred {t.ElemType.OnnxName()}, actual {actual.DataType.OnnxName()}";
            if (t.Shape is null) continue;
            if (t.Shape.Length != actual.Rank) return $"'{name}' inferred rank {t.Shape.Length} {t}, actual {Shapes.Format(actual.Shape)}";
            for (int i = 0; i < actual.Rank; i++)
                if (t.Shape[i].IsKnown && t.Shape[i].Value != actual.Shape[i]) return $"'{name}' inferred {t}, actual {Shapes.Format(actual.Shape)}";
        }
        return null;
    }

    /// <summary>Null when equal within tolerance, else a description of the first mismatch.</summary>
    public static string? Compare(Tensor expected, Tensor actual)
    {
        if (expected.DataType != actual.DataType) return $"type {actual.DataType.OnnxName()}, expected {expected.DataType.OnnxName()}";
        if (!expected.Shape.SequenceEqual(actual.Shape)) return $"shape {Shapes.Format(actual.Shape)}, expected {Shapes.Format(expected.Shape)}";
        if (expected.DataType.IsFloat())
        {
            var e = expected.ToDoubles(); var a = actual.ToDoubles();
            int bad = 0; int first = -1; double worst = 0;
            for (int i = 0; i < e.Length; i++)
            {
                if (double.IsNaN(e[i]) && double.IsNaN(a[i])) continue;
                if (e[i] == a[i]) continue; // covers infinities
                double d = Math.Abs(e[i] - a[i]);
                if (!(d <= Atol + Rtol * Math.Abs(e[i])))
                {
                    bad++; if (first < 0) first = i;
                    worst = Math.Max(worst, double.IsNaN(d) ? double.PositiveInfinity : d);
                }
            }
            return bad == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{bad}/{e.Length} elements differ; first at {first}: got {a[first]:R}, expected {e[first]:R}; max abs diff {worst:G4}");
        }
        if (expected.DataType == DataType.UInt64)
        {
            var e = expected.ToUInt64s(); var a = actual.ToUInt64s();
            for (int i = 0; i < e.Length; i++) if (e[i] != a[i]) return $"element {i}: got {a[i]}, expected {e[i]}";
            return null;
        }
        {
            var e = expected.ToInt64s(); var a = actual.ToInt64s();
            for (int i = 0; i < e.Length; i++) if (e[i] != a[i]) return $"element {i}: got {a[i]}, expected {e[i]}";
            return null;
        }
    }

    public static IEnumerable<Node> AllOps(Graph g)
    {
        foreach (var n in g.Nodes)
        {
            yield return n;
            foreach (var a in n.Attributes)
            {
                if (a.G is not null) foreach (var x in AllOps(a.G)) yield return x;
                foreach (var sg in a.Graphs) foreach (var x in AllOps(sg)) yield return x;
            }
        }
    }

    private static string? UnsupportedType(Graph g)
    {
        foreach (var v in g.Inputs.Concat(g.Outputs))
        {
            if (v.Type is null) continue;
            if (!v.Type.IsTensor) return $"'{v.Name}' is a {v.Type.Kind}";
            if (!v.Type.ElemType.IsSupported()) return $"'{v.Name}' is {v.Type.ElemType}";
        }
        foreach (var (name, t) in g.ValueTypes)
        {
            if (!t.IsTensor) return $"'{name}' is a {t.Kind}";
            if (!t.ElemType.IsSupported()) return $"'{name}' is {t.ElemType}";
        }
        foreach (var c in g.Initializers) if (!c.DataType.IsSupported()) return $"'{c.Name}' is {c.DataType}";
        foreach (var n in AllOps(g))
        {
            foreach (var a in n.Attributes)
            {
                if (a.T is not null && !a.T.DataType.IsSupported()) return $"attribute '{a.Name}' of {n.OpType} is {a.T.DataType}";
                if (a.Name == "to" && a.Kind == AttributeKind.Int && !((DataType)a.I).IsSupported()) return $"{n.OpType} to {(DataType)a.I}";
                if (a.Name is "output_dtype" or "dtype" && a.Kind == AttributeKind.Int && a.I != 0 && !((DataType)a.I).IsSupported()) return $"{n.OpType} {a.Name} {(DataType)a.I}";
            }
        }
        return null;
    }

    private static readonly string[] KnownOpNames = SupportedSet.Required
        .Concat(OperatorRegistry.All.Select(o => o.OpType))
        .Distinct().OrderByDescending(o => o.Length).ToArray();

    /// <summary>The operator a case is "about", for the per-operator table: the longest op name its case name starts with.</summary>
    public static string PrimaryOp(string caseName, IReadOnlyList<Node> ops)
    {
        var key = caseName.StartsWith("test_", StringComparison.Ordinal) ? caseName[5..] : caseName;
        if (key.StartsWith("operator_", StringComparison.Ordinal)) key = key[9..];
        key = key.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        foreach (var op in KnownOpNames)
            if (key.StartsWith(op.ToLowerInvariant(), StringComparison.Ordinal)) return op;
        if (ops.Count == 1) return ops[0].OpType;
        return ops.Count == 0 ? "(none)" : "(model)";
    }

    public static string RenderMarkdown(IReadOnlyList<CaseResult> results, string root)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        int p = results.Count(r => r.Outcome == Outcome.Pass), f = results.Count(r => r.Outcome == Outcome.Fail), u = results.Count(r => r.Outcome == Outcome.Unsupported);
        sb.AppendLine("# ONNX backend conformance");
        sb.AppendLine();
        sb.AppendLine("Generated by `dotnet run --project tests/EdgeCompile.Conformance -c Release -- ../shared/onnx-backend-tests --write-doc docs/conformance.md`.");
        sb.AppendLine("Each case runs through the ONNX reader, shape inference (checked against the real output shapes) and the float reference executor,");
        sb.AppendLine($"compared with rtol {Rtol.ToString(inv)}, atol {Atol.ToString(inv)} (exact for integers and bool). *Unsupported* means the case uses an operator outside the");
        sb.AppendLine("supported set or a data type outside float64/32/16, bfloat16, 8-64-bit integers and bool (strings, float8, 4-bit, complex, sequences, optionals).");
        sb.AppendLine();
        sb.AppendLine(inv, $"**conformance: {p} pass, {f} fail, {u} unsupported of {results.Count} cases**");
        sb.AppendLine();
        sb.AppendLine("| Operator | Pass | Fail | Unsupported |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var g in results.GroupBy(r => r.PrimaryOp).OrderBy(g => g.Key, StringComparer.Ordinal))
            sb.AppendLine(inv, $"| {g.Key} | {g.Count(r => r.Outcome == Outcome.Pass)} | {g.Count(r => r.Outcome == Outcome.Fail)} | {g.Count(r => r.Outcome == Outcome.Unsupported)} |");
        var fails = results.Where(r => r.Outcome == Outcome.Fail).ToList();
        if (fails.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Failing cases");
            sb.AppendLine();
            foreach (var r in fails) sb.AppendLine(inv, $"- `{r.Id}`: {Escape(r.Detail)}");
        }
        sb.AppendLine();
        sb.AppendLine("## Unsupported cases and why");
        sb.AppendLine();
        foreach (var g in results.Where(r => r.Outcome == Outcome.Unsupported).GroupBy(r => Reason(r.Detail)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            sb.AppendLine(inv, $"- {Escape(g.Key)} ({g.Count()}): {string.Join(", ", g.Select(r => "`" + r.Name + "`"))}");
        return sb.ToString();
    }

    private static string Reason(string detail) => detail.StartsWith("data type:", StringComparison.Ordinal) ? "data type" : detail;
    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}

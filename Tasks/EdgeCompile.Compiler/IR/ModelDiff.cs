using System.Globalization;

namespace EdgeCompile.Compiler.IR;

/// <summary>
/// Structural comparison of two models (graph, nodes, attributes, constants' bytes, types, opsets,
/// metadata), recursing into subgraphs. Returns the first difference as a sentence, or null when equal.
/// Used by round-trip and reproducibility tests.
/// </summary>
public static class ModelDiff
{
    public static string? Compare(Model a, Model b)
    {
        if (a.IrVersion != b.IrVersion) return $"ir_version {a.IrVersion} vs {b.IrVersion}";
        if (a.ProducerName != b.ProducerName || a.ProducerVersion != b.ProducerVersion) return "producer differs";
        if (a.Domain != b.Domain || a.ModelVersion != b.ModelVersion || a.DocString != b.DocString) return "model header differs";
        if (!a.Opsets.SequenceEqual(b.Opsets)) return "opset imports differ";
        if (!a.Metadata.SequenceEqual(b.Metadata)) return "metadata differs";
        return Compare(a.Graph, b.Graph, "graph");
    }

    public static string? Compare(Graph a, Graph b, string where)
    {
        if (a.Name != b.Name) return $"{where}: name '{a.Name}' vs '{b.Name}'";
        if (a.DocString != b.DocString) return $"{where}: doc_string differs";
        if (Values(a.Inputs) != Values(b.Inputs)) return $"{where}: inputs {Values(a.Inputs)} vs {Values(b.Inputs)}";
        if (Values(a.Outputs) != Values(b.Outputs)) return $"{where}: outputs {Values(a.Outputs)} vs {Values(b.Outputs)}";
        if (a.Nodes.Count != b.Nodes.Count) return $"{where}: {a.Nodes.Count} nodes vs {b.Nodes.Count}";
        for (int i = 0; i < a.Nodes.Count; i++)
        {
            var d = Compare(a.Nodes[i], b.Nodes[i], $"{where}/node[{i}] {a.Nodes[i].OpType}");
            if (d is not null) return d;
        }
        if (a.Initializers.Count != b.Initializers.Count) return $"{where}: {a.Initializers.Count} initializers vs {b.Initializers.Count}";
        foreach (var (ca, cb) in a.Initializers.Zip(b.Initializers))
        {
            var d = Compare(ca, cb, $"{where}/initializer '{ca.Name}'");
            if (d is not null) return d;
        }
        var ta = string.Join(";", a.ValueTypes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + kv.Value));
        var tb = string.Join(";", b.ValueTypes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + kv.Value));
        if (ta != tb) return $"{where}: value_info differs";
        if (!a.Metadata.SequenceEqual(b.Metadata)) return $"{where}: metadata differs";
        if (a.QuantizationAnnotations.Count != b.QuantizationAnnotations.Count) return $"{where}: quantization annotations differ";
        return null;
    }

    private static string Values(List<ValueInfo> v) => string.Join(", ", v.Select(x => x.ToString()));

    private static string? Compare(Node a, Node b, string where)
    {
        if (a.Name != b.Name || a.OpType != b.OpType || a.Domain != b.Domain) return $"{where}: identity differs ({a.Name}/{a.OpType} vs {b.Name}/{b.OpType})";
        if (!a.Inputs.SequenceEqual(b.Inputs)) return $"{where}: inputs differ";
        if (!a.Outputs.SequenceEqual(b.Outputs)) return $"{where}: outputs differ";
        if (a.Attributes.Count != b.Attributes.Count) return $"{where}: {a.Attributes.Count} attributes vs {b.Attributes.Count}";
        foreach (var (x, y) in a.Attributes.Zip(b.Attributes))
        {
            string w = $"{where}.{x.Name}";
            if (x.Name != y.Name || x.Kind != y.Kind) return $"{w}: attribute {x.Name}:{x.Kind} vs {y.Name}:{y.Kind}";
            bool same = x.Kind switch
            {
                AttributeKind.Float => BitConverter.SingleToInt32Bits(x.F) == BitConverter.SingleToInt32Bits(y.F),
                AttributeKind.Int => x.I == y.I,
                AttributeKind.String => x.S.AsSpan().SequenceEqual(y.S),
                AttributeKind.Floats => x.Floats.Select(BitConverter.SingleToInt32Bits).SequenceEqual(y.Floats.Select(BitConverter.SingleToInt32Bits)),
                AttributeKind.Ints => x.Ints.SequenceEqual(y.Ints),
                AttributeKind.Strings => x.Strings.Length == y.Strings.Length && x.Strings.Zip(y.Strings).All(p => p.First.AsSpan().SequenceEqual(p.Second)),
                _ => true,
            };
            if (!same) return $"{w}: values differ";
            if (x.T is not null && (y.T is null || Compare(x.T, y.T, w) is not null)) return $"{w}: tensor differs";
            if (x.G is not null || y.G is not null)
            {
                if (x.G is null || y.G is null) return $"{w}: graph missing on one side";
                if (Compare(x.G, y.G, w) is { } gd) return gd;
            }
            if (x.Tensors.Length != y.Tensors.Length) return $"{w}: tensor count differs";
            for (int i = 0; i < x.Tensors.Length; i++) if (Compare(x.Tensors[i], y.Tensors[i], w) is { } td) return td;
            if (x.Graphs.Length != y.Graphs.Length) return $"{w}: graph count differs";
            for (int i = 0; i < x.Graphs.Length; i++) if (Compare(x.Graphs[i], y.Graphs[i], w) is { } gd2) return gd2;
        }
        return null;
    }

    private static string? Compare(Constant a, Constant b, string where)
    {
        if (a.Name != b.Name) return $"{where}: name '{a.Name}' vs '{b.Name}'";
        if (a.DataType != b.DataType) return $"{where}: type {a.DataType} vs {b.DataType}";
        if (!a.Shape.SequenceEqual(b.Shape)) return $"{where}: shape {Shapes.Format(a.Shape)} vs {Shapes.Format(b.Shape)}";
        if (!a.DataType.IsSupported())
        {
            // Types we never decode (strings, float8, ...): compare what the file said.
            var pa = a.Proto; var pb = b.Proto;
            bool same = pa is not null && pb is not null && pa.RawData.Span.SequenceEqual(pb.RawData.Span)
                && pa.StringData.Count == pb.StringData.Count && pa.StringData.Zip(pb.StringData).All(p => p.First.AsSpan().SequenceEqual(p.Second))
                && pa.Int32Data.SequenceEqual(pb.Int32Data);
            return same ? null : $"{where}: data differs";
        }
        var ra = Onnx.TensorDecoder.ToRaw(a.Value);
        var rb = Onnx.TensorDecoder.ToRaw(b.Value);
        if (!ra.AsSpan().SequenceEqual(rb)) return string.Create(CultureInfo.InvariantCulture, $"{where}: data differs");
        return null;
    }
}

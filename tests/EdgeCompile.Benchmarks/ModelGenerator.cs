using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Benchmarks;

/// <summary>
/// Builds a large synthetic model for memory measurements: a chain of layers, each
/// <c>x = Add(Mul(x, W_i), b_i)</c> with a full-size weight W_i of [rows, 3072] floats (9 MiB at the
/// BERT-base-like 768 rows) and a [3072] bias, filled with random values so the file does not compress.
/// (MatMul is not in the supported operator set yet, so the front end would reject it; for loading, only
/// the initializer sizes matter, not the operators that consume them.)
/// </summary>
public static class ModelGenerator
{
    public const int Columns = 3072;
    public const int DefaultRows = 768;

    public sealed record Layout(int Layers, int Rows)
    {
        public long WeightBytes => (long)Layers * ((long)Rows * Columns + Columns) * sizeof(float);
        public int Initializers => 2 * Layers;
    }

    /// <summary>About <paramref name="targetBytes"/> of weights: whole 768-row layers, or one smaller layer for small targets.</summary>
    public static Layout Plan(long targetBytes)
    {
        long layerBytes = (long)DefaultRows * Columns * sizeof(float);
        if (targetBytes >= layerBytes) return new((int)Math.Round((double)targetBytes / layerBytes), DefaultRows);
        int rows = (int)Math.Max(1, targetBytes / ((long)Columns * sizeof(float)));
        return new(1, rows);
    }

    public static Model Build(Layout layout, int seed = 20261123)
    {
        var rng = new Random(seed);
        var graph = new Graph { Name = "load_memory_benchmark" };
        int[] shape = [layout.Rows, Columns];
        graph.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, shape)));
        string x = "x";
        for (int i = 0; i < layout.Layers; i++)
        {
            string w = $"layer{i}.weight", b = $"layer{i}.bias", scaled = $"layer{i}.scaled", y = $"layer{i}.out";
            graph.Initializers.Add(new Constant(w, Tensor.FromArray(Random(rng, layout.Rows * Columns), shape)));
            graph.Initializers.Add(new Constant(b, Tensor.FromArray(Random(rng, Columns), Columns)));
            graph.Nodes.Add(new Node { Name = $"layer{i}.mul", OpType = "Mul", Inputs = [x, w], Outputs = [scaled] });
            graph.Nodes.Add(new Node { Name = $"layer{i}.add", OpType = "Add", Inputs = [scaled, b], Outputs = [y] });
            x = y;
        }
        graph.Outputs.Add(new ValueInfo(x, ValueType.FromShape(DataType.Float, shape)));
        var model = new Model { Graph = graph, IrVersion = 8, ProducerName = "EdgeCompile.Benchmarks" };
        model.Opsets[""] = 17;
        return model;
    }

    private static float[] Random(Random rng, int count)
    {
        var data = new float[count];
        for (int i = 0; i < data.Length; i++) data[i] = (rng.NextSingle() - 0.5f) * 0.04f; // like initialized weights
        return data;
    }

    public static void Write(Model model, string path) => OnnxWriter.WriteFile(model, path);
}

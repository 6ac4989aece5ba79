using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Codegen.Tests.Support;

/// <summary>
/// A constructed 32 → 64 → 64 → 64 → 10 MLP (fc1..fc4, Relu between) whose naive int8 loses points in two ways, built
/// deterministically in C# (docs/mixed-precision.md, "Measured: a constructed model"):
/// <list type="bullet">
/// <item>outlier inputs: features 0 and 1 are nuisance values with standard deviation 40 (fc1's weights on them are divided
/// by 40); the other 30 carry the class. One per-tensor input scale then spends its 256 levels on the two outliers: the
/// informative features get a step of about 0.6.</item>
/// <item>channels scaled far apart: fc2's output channels 0–2 (weights and bias) are multiplied by 64 and fc3's input columns
/// 0–2 divided by 64 — the same function in float, but fc2's per-tensor output scale is then set by three channels.
/// Cross-layer equalization (Equalization="true") undoes exactly this.</item>
/// </list>
/// Data: 10 classes, each a random prototype on the 30 informative features plus noise (σ 0.4); fc1–fc3 are random (He),
/// fc4 is a matched filter of the prototypes' fc3 features, so the float model separates the classes with a margin like a
/// trained classifier. <see cref="Data"/> draws independent sets by seed (calibration, search, held out). No labels: top-1 is
/// agreement with the float model.
/// </summary>
public static class OutlierNet
{
    public const int Inputs = 32, Hidden = 64, Classes = 10;
    public const float OutlierScale = 40, ChannelScale = 64, Noise = 0.4f;

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>The class prototypes (informative features only; the outliers are noise).</summary>
    private static float[][] Prototypes()
    {
        var rng = new Random(777);
        return Enumerable.Range(0, Classes).Select(_ => Enumerable.Range(0, Inputs).Select(i => i < 2 ? 0f : (float)(1.5 * Normal(rng))).ToArray()).ToArray();
    }

    public static Model Build()
    {
        var rng = new Random(20261123);
        float N(double std) => (float)(Normal(rng) * std);
        float[] W(int rows, int cols, double std) { var w = new float[rows * cols]; for (int i = 0; i < w.Length; i++) w[i] = N(std); return w; }
        var w1 = W(Hidden, Inputs, Math.Sqrt(2.0 / Inputs)); var b1 = W(1, Hidden, 0.1);
        for (int r = 0; r < Hidden; r++) { w1[r * Inputs] /= OutlierScale; w1[r * Inputs + 1] /= OutlierScale; }
        var w2 = W(Hidden, Hidden, Math.Sqrt(2.0 / Hidden)); var b2 = W(1, Hidden, 0.1);
        var w3 = W(Hidden, Hidden, Math.Sqrt(2.0 / Hidden)); var b3 = W(1, Hidden, 0.1);
        for (int c = 0; c < 3; c++)
        {
            for (int k = 0; k < Hidden; k++) w2[c * Hidden + k] *= ChannelScale;
            b2[c] *= ChannelScale;
            for (int r = 0; r < Hidden; r++) w3[r * Hidden + c] /= ChannelScale;
        }
        var w4 = new float[Classes * Hidden]; var b4 = new float[Classes];

        var g = new Graph { Name = "outlier_net" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, Inputs])));
        void C(string n, float[] v, params int[] s) => g.Initializers.Add(new Constant(n, Tensor.FromArray(v, s)));
        C("w1", w1, Hidden, Inputs); C("b1", b1, Hidden); C("w2", w2, Hidden, Hidden); C("b2", b2, Hidden);
        C("w3", w3, Hidden, Hidden); C("b3", b3, Hidden); C("w4", w4, Classes, Hidden); C("b4", b4, Classes);
        Attribute TransB() => new() { Name = "transB", Kind = AttributeKind.Int, I = 1 };
        string prev = "x";
        for (int k = 1; k <= 4; k++)
        {
            string h = k == 4 ? "y" : $"h{k}";
            g.Nodes.Add(new Node { Name = $"fc{k}", OpType = "Gemm", Inputs = [prev, $"w{k}", $"b{k}"], Outputs = [h], Attributes = [TransB()] });
            if (k < 4) g.Nodes.Add(new Node { Name = $"relu{k}", OpType = "Relu", Inputs = [h], Outputs = [$"a{k}"] });
            prev = $"a{k}";
        }
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, Classes])));
        var m = new Model { Graph = g, IrVersion = 8, ProducerName = "OutlierNet" };
        m.Opsets[""] = 17;
        Compiler.Passes.InferShapes.Run(m);

        // fc4: row k = the prototype k's fc3 features minus their mean over the classes, normalized (a matched filter).
        var exec = new Compiler.Reference.ReferenceExecutor(m);
        var feats = Prototypes().Select(p =>
        {
            float[] a3 = [];
            exec.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(p, 1, Inputs) }, (_, name, t) => { if (name == "a3") a3 = t.As<float>().ToArray(); });
            return a3;
        }).ToArray();
        for (int k = 0; k < Classes; k++)
        {
            var row = Enumerable.Range(0, Hidden).Select(j => feats[k][j] - feats.Average(f => f[j])).ToArray();
            double norm = Math.Sqrt(row.Sum(v => v * v)) + 1e-6;
            for (int j = 0; j < Hidden; j++) w4[k * Hidden + j] = (float)(row[j] / norm);
        }
        g.Initializers.Set(new Constant("w4", Tensor.FromArray(w4, Classes, Hidden)));
        return m;
    }

    /// <summary><paramref name="samples"/> inputs drawn with <paramref name="seed"/>: a random class's prototype plus noise.</summary>
    public static CalibrationData Data(Model m, int samples, int seed)
    {
        var rng = new Random(seed);
        var protos = Prototypes();
        var x = new float[samples * Inputs];
        for (int s = 0; s < samples; s++)
        {
            var p = protos[rng.Next(Classes)];
            for (int i = 0; i < Inputs; i++)
                x[s * Inputs + i] = (float)(i < 2 ? Normal(rng) * OutlierScale : p[i] + Normal(rng) * Noise);
        }
        return CalibrationData.FromArrays([new("x", Tensor.FromArray(x, samples, Inputs))], m);
    }
}

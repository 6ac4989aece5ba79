using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using Attribute = EdgeCompile.Compiler.IR.Attribute;
using ValueType = EdgeCompile.Compiler.IR.ValueType;
using EdgeCompile.TestSupport;

namespace EdgeCompile.Benchmarks.Models;

/// <summary>
/// The benchmark models (random weights: the benchmarks measure speed, not accuracy). Weights use
/// He-style scaling (std = sqrt(2 / fan-in)) so activations keep a sane range through the depth and no
/// denormals appear. Only operators listed in docs/kernels.md are used, so each compiles through &lt;EdgeModel&gt;.
/// </summary>
public static class Zoo
{
    private const string Producer = "EdgeCompile.Benchmarks.Models";

    public static readonly string[] Names = ["tiny_mlp", "mobilenet_v2", "resnet18", "transformer_encoder"];

    public static Model Build(string name) => name switch
    {
        "tiny_mlp" => TinyMlp(),
        "mobilenet_v2" => MobileNetV2(),
        "resnet18" => ResNet18(),
        "transformer_encoder" => TransformerEncoder(),
        _ => throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", Names)})"),
    };

    /// <summary>x[1,64] → Gemm 128 → Relu → Gemm 128 → Relu → Gemm 10 (26.1k parameters): per-call overhead dominates.</summary>
    public static Model TinyMlp()
    {
        var g = new RandomGraph("tiny_mlp", 20261123 + 1, Producer, irVersion: 9);
        string x = g.Input("x", 1, 64);
        x = g.Relu(g.Linear(x, 64, 128));
        x = g.Relu(g.Linear(x, 128, 128));
        x = g.Linear(x, 128, 10);
        return g.Output(x, "logits", 1, 10).Build(17);
    }

    /// <summary>
    /// MobileNetV2 (width 1.0, 224x224, 3.5M parameters, ~300M MACs): inverted residual blocks of
    /// 1x1 expand → 3x3 depthwise → 1x1 project, ReLU6 as Clip(0, 6). BatchNorm is omitted (it is folded into
    /// the convolutions at build time by both engines, so the conv biases stand for it).
    /// </summary>
    public static Model MobileNetV2()
    {
        var g = new RandomGraph("mobilenet_v2", 20261123 + 2, Producer, irVersion: 9);
        string x = g.Input("input", 1, 3, 224, 224);
        x = g.Relu6(g.Conv(x, 3, 32, 3, stride: 2, pad: 1));
        int c = 32;
        (int t, int ch, int n, int s)[] config = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];
        foreach (var (t, ch, n, s) in config)
            for (int i = 0; i < n; i++)
            {
                int stride = i == 0 ? s : 1, hidden = c * t;
                string h = x;
                if (t != 1) h = g.Relu6(g.Conv(h, c, hidden, 1));
                h = g.Relu6(g.Conv(h, hidden, hidden, 3, stride: stride, pad: 1, group: hidden));
                h = g.Conv(h, hidden, ch, 1, gain: 0.5);
                x = stride == 1 && c == ch ? g.Add(x, h) : h;
                c = ch;
            }
        x = g.Relu6(g.Conv(x, c, 1280, 1));
        x = g.Flatten(g.Node("GlobalAveragePool", [x]));
        x = g.Linear(x, 1280, 1000);
        return g.Output(x, "logits", 1, 1000).Build(17);
    }

    /// <summary>ResNet-18 (224x224, 11.7M parameters, ~1.8G MACs): basic blocks of two 3x3 convs with identity or 1x1-stride-2 shortcuts.</summary>
    public static Model ResNet18()
    {
        var g = new RandomGraph("resnet18", 20261123 + 3, Producer, irVersion: 9);
        string x = g.Input("input", 1, 3, 224, 224);
        x = g.Relu(g.Conv(x, 3, 64, 7, stride: 2, pad: 3));
        x = g.Node("MaxPool", [x], RandomGraph.Ints("kernel_shape", 3, 3), RandomGraph.Ints("strides", 2, 2), RandomGraph.Ints("pads", 1, 1, 1, 1));
        int c = 64;
        foreach (int ch in new[] { 64, 128, 256, 512 })
            for (int i = 0; i < 2; i++)
            {
                int stride = i == 0 && ch != 64 ? 2 : 1;
                string h = g.Relu(g.Conv(x, c, ch, 3, stride: stride, pad: 1));
                h = g.Conv(h, ch, ch, 3, pad: 1, gain: 0.5);
                string shortcut = stride != 1 || c != ch ? g.Conv(x, c, ch, 1, stride: stride) : x;
                x = g.Relu(g.Add(h, shortcut));
                c = ch;
            }
        x = g.Flatten(g.Node("GlobalAveragePool", [x]));
        x = g.Linear(x, 512, 1000);
        return g.Output(x, "logits", 1, 1000).Build(17);
    }

    public const int Seq = 128, Hidden = 256, Heads = 4, Ffn = 1024, Layers = 2;

    /// <summary>
    /// A BERT-style encoder over hidden states [1, 128, 256]: 2 post-LN layers of 4-head self-attention
    /// (MatMul+Add projections, Reshape/Transpose into heads, scaled scores, Softmax) and a GELU feed-forward
    /// (1024), each followed by a residual Add and LayerNormalization (1.6M parameters). Opset 20 for Gelu.
    /// </summary>
    public static Model TransformerEncoder()
    {
        var g = new RandomGraph("transformer_encoder", 20261123 + 4, Producer, irVersion: 9);
        string x = g.Input("hidden", 1, Seq, Hidden);
        int dh = Hidden / Heads;
        string heads = g.Const("shape.heads", new long[] { 1, Seq, Heads, dh }, 4);
        string merged = g.Const("shape.merged", new long[] { 1, Seq, Hidden }, 3);
        string scale = g.Const("scale", new[] { 1f / MathF.Sqrt(dh) });
        for (int l = 0; l < Layers; l++)
        {
            string q = g.Node("Transpose", [g.Node("Reshape", [g.Dense(x, Hidden, Hidden), heads])], RandomGraph.Ints("perm", 0, 2, 1, 3));
            string k = g.Node("Transpose", [g.Node("Reshape", [g.Dense(x, Hidden, Hidden), heads])], RandomGraph.Ints("perm", 0, 2, 3, 1));
            string v = g.Node("Transpose", [g.Node("Reshape", [g.Dense(x, Hidden, Hidden), heads])], RandomGraph.Ints("perm", 0, 2, 1, 3));
            string scores = g.Node("Mul", [g.Node("MatMul", [q, k]), scale]);
            string probs = g.Node("Softmax", [scores], RandomGraph.Int("axis", -1));
            string ctx = g.Node("Transpose", [g.Node("MatMul", [probs, v])], RandomGraph.Ints("perm", 0, 2, 1, 3));
            string attn = g.Dense(g.Node("Reshape", [ctx, merged]), Hidden, Hidden);
            x = g.LayerNorm(g.Add(x, attn), Hidden);
            string ff = g.Dense(g.Node("Gelu", [g.Dense(x, Hidden, Ffn)]), Ffn, Hidden);
            x = g.LayerNorm(g.Add(x, ff), Hidden);
        }
        return g.Output(x, "output", 1, Seq, Hidden).Build(20);
    }
}

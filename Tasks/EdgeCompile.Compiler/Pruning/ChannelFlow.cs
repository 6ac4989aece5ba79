using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Passes;

namespace EdgeCompile.Compiler.Pruning;

/// <summary>A node whose constant weights can be pruned: Conv (group 1), Gemm or MatMul with a constant weight.</summary>
public sealed record WeightLayer(Node Node, string Name)
{
    public string OpType => Node.OpType;
}

/// <summary>Where a per-channel constant is sliced: input <see cref="Input"/> of <see cref="Node"/>, along <see cref="Axis"/>,
/// each channel being <see cref="Block"/> consecutive entries on that axis. After a Concat the producer's channels are
/// channels <see cref="Offset"/>.. of <see cref="Total"/> on that axis (0 and the producer's count before any Concat).</summary>
public sealed record ChannelSlice(Node Node, int Input, int Axis, int Block = 1, int Offset = 0, int Total = -1);

/// <summary>
/// The channel flow of one prunable layer: everything that must shrink when output channels of <see cref="Producer"/> are
/// removed. Its own weight and bias, per-channel constants on the way (BatchNormalization parameters, depthwise Conv
/// filters, per-channel Add/Mul constants), and the input channels of the consumers where the flow ends (Conv, Gemm,
/// MatMul; after a Flatten each channel is a block of columns). <see cref="BlockedBy"/> is set when the flow reaches
/// something that cannot shrink (graph output, residual Add, Concat, a non-channel-wise operator).
/// </summary>
public sealed class ChannelFlow
{
    public required WeightLayer Producer { get; init; }
    public required int Channels { get; init; }
    public List<ChannelSlice> Slices { get; } = new();
    /// <summary>Depthwise Convs on the way and their channel count: <c>group</c> shrinks by the removed channels.</summary>
    public List<(Node Node, int Total)> Depthwise { get; } = new();
    /// <summary>Consumers whose input channels shrink (Conv, Gemm, MatMul), with the input slice that shrinks.</summary>
    public List<ChannelSlice> Consumers { get; } = new();
    /// <summary>The values the flow passes through (the producer's output first).</summary>
    public List<string> Values { get; } = new();
    public string? BlockedBy { get; set; }
    public string? Reason { get; set; }
    public bool Prunable => BlockedBy is null;
}

/// <summary>Finds the weight layers of a graph and the channel flow of each (docs/pruning.md).</summary>
public static class ChannelFlowAnalysis
{
    private static readonly HashSet<string> ChannelWise = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Gelu",
        "Softplus", "Softsign", "Mish", "Identity", "Dropout", "Abs", "Neg", "Exp", "Erf",
    };
    private static readonly HashSet<string> SpatialPools = new(StringComparer.Ordinal)
    {
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "GlobalLpPool",
    };

    /// <summary>Conv, Gemm and MatMul nodes (default domain) with constant float weights, in graph order.</summary>
    public static List<WeightLayer> WeightLayers(Model model)
    {
        var g = model.Graph;
        var layers = new List<WeightLayer>();
        foreach (var n in g.Nodes)
        {
            if (n.Domain.Length != 0 || n.OpType is not ("Conv" or "Gemm" or "MatMul") || n.Inputs.Count < 2) continue;
            if (Weight(g, n.Inputs[1]) is not { } w) continue;
            if (n.OpType == "MatMul" && w.Shape.Length != 2) continue;
            layers.Add(new WeightLayer(n, n.Name.Length > 0 ? n.Name : n.Outputs[0]));
        }
        return layers;
    }

    /// <summary>A float initializer that is not also a graph input (which could be overridden at run time).</summary>
    public static Constant? Weight(Graph g, string name) =>
        name.Length > 0 && g.Initializers.TryGet(name, out var c) && c.DataType == DataType.Float && !g.Inputs.Any(i => i.Name == name) ? c : null;

    public static long Group(Node n) => n.GetAttribute("group")?.I ?? 1;

    /// <summary>The output-channel count of a weight layer and the axis of its weight that holds them.</summary>
    public static (int Channels, int WeightAxis) OutputChannels(Graph g, Node n)
    {
        var w = Weight(g, n.Inputs[1])!;
        return n.OpType switch
        {
            "Conv" => (w.Shape[0], 0),
            "Gemm" => (n.GetAttribute("transB")?.I == 1 ? (w.Shape[0], 0) : (w.Shape[1], 1)),
            _ => (w.Shape[1], 1),
        };
    }

    public static ChannelFlow Analyze(Model model, WeightLayer layer)
    {
        var g = model.Graph;
        var n = layer.Node;
        var (channels, wAxis) = OutputChannels(g, n);
        var flow = new ChannelFlow { Producer = layer, Channels = channels };
        var readers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var node in g.Nodes)
            foreach (var r in GraphValidator.NodeReads(node))
                (readers.TryGetValue(r, out var l) ? l : readers[r] = new List<Node>()).Add(node);
        var outputs = new HashSet<string>(g.Outputs.Select(o => o.Name), StringComparer.Ordinal);

        void Block(Node? at, string reason)
        {
            if (flow.BlockedBy is not null) return;
            flow.BlockedBy = at?.DisplayName ?? "(graph output)";
            flow.Reason = reason;
        }

        if (n.OpType == "Conv" && Group(n) != 1) { Block(n, "a grouped Conv prunes with the layer that feeds it, not on its own"); return flow; }
        if (n.Outputs.Count(o => o.Length > 0) != 1) { Block(n, "the layer has more than one output"); return flow; }
        flow.Slices.Add(new ChannelSlice(n, 1, wAxis, 1, 0, channels));
        if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0)
        {
            var bias = Weight(g, n.Inputs[2]);
            if (n.OpType == "Conv")
            {
                if (bias is null) { Block(n, "its bias is not a constant"); return flow; }
                flow.Slices.Add(new ChannelSlice(n, 2, 0, 1, 0, channels));
            }
            else if (bias is null) { Block(n, "its C input is not a constant"); return flow; }
            else if (bias.Shape.Length > 0 && bias.Shape[^1] == channels && channels > 1)
            {
                if (bias.Shape.Length == 2 && bias.Shape[0] != 1) { Block(n, "its C input is a full matrix, not one value per output column"); return flow; }
                flow.Slices.Add(new ChannelSlice(n, 2, bias.Shape.Length - 1, 1, 0, channels));
            }
            else if (bias.ElementCount != 1 && !(bias.Shape.Length == 2 && bias.Shape[1] == 1))
            { Block(n, "its C input does not broadcast per output column"); return flow; }
        }

        int? rank = g.TypeOf(n.Outputs[0])?.Shape?.Length;
        if (rank is null) { Block(n, "the rank of its output is unknown"); return flow; }
        int axis = n.OpType == "MatMul" ? rank.Value - 1 : 1;
        Follow(n.Outputs[0], rank.Value, axis, 1, 0, channels);
        return flow;

        // The flow's channels are channels offset..offset+Channels of the total on chAxis of value (each a block of
        // columns after a Flatten).
        void Follow(string value, int valueRank, int chAxis, int block, int offset, int total)
        {
            if (flow.BlockedBy is not null) return;
            flow.Values.Add(value);
            if (outputs.Contains(value)) { Block(null, $"'{value}' is a graph output, whose shape is part of the model's contract"); return; }
            foreach (var r in readers.GetValueOrDefault(value) ?? [])
            {
                if (flow.BlockedBy is not null) return;
                if (r.Domain.Length != 0) { Block(r, $"{r.OpType} ({r.Domain}) is not a channel-wise operator"); return; }
                int slot = r.Inputs.IndexOf(value);
                if (r.Inputs.LastIndexOf(value) != slot) { Block(r, "it reads the channels twice"); return; }
                string op = r.OpType;
                if (ChannelWise.Contains(op) && slot == 0)
                {
                    if (op == "PRelu")
                    {
                        if (!PerChannelConstant(r, 1, valueRank, chAxis, block, offset, total)) return;
                    }
                    else if (op == "Clip" && r.Inputs.Skip(1).Any(i => i.Length > 0 && Weight(g, i) is null && !g.Initializers.Contains(i)))
                    { Block(r, "its bounds are computed at run time"); return; }
                    Next(r);
                }
                else if (op == "BatchNormalization" && slot == 0 && chAxis == 1 && block == 1)
                {
                    if (r.Outputs.Count(o => o.Length > 0) != 1 || r.Inputs.Count < 5) { Block(r, "a training-mode BatchNormalization"); return; }
                    for (int i = 1; i < 5; i++)
                    {
                        if (Weight(g, r.Inputs[i]) is not { } p || p.Shape.Length != 1 || p.Shape[0] != total)
                        { Block(r, "its parameters are not constants with one value per channel"); return; }
                        flow.Slices.Add(new ChannelSlice(r, i, 0, 1, offset, total));
                    }
                    Next(r);
                }
                else if (SpatialPools.Contains(op) && slot == 0 && chAxis == 1 && block == 1 && valueRank >= 3)
                {
                    if (r.Outputs.Count(o => o.Length > 0) != 1) { Block(r, "a MaxPool with an Indices output"); return; }
                    Next(r);
                }
                else if (op == "Conv" && slot == 0 && chAxis == 1 && block == 1 && Weight(g, r.Inputs[1]) is { } cw)
                {
                    long group = Group(r);
                    if (group == 1)
                        flow.Consumers.Add(new ChannelSlice(r, 1, 1, 1, offset, total));
                    else if (group == total && cw.Shape[0] == total && cw.Shape[1] == 1)
                    {
                        // Depthwise: each channel has its own filter, so it prunes with its producer and the flow goes on.
                        flow.Slices.Add(new ChannelSlice(r, 1, 0, 1, offset, total));
                        if (r.Inputs.Count > 2 && r.Inputs[2].Length > 0)
                        {
                            if (Weight(g, r.Inputs[2]) is null) { Block(r, "its bias is not a constant"); return; }
                            flow.Slices.Add(new ChannelSlice(r, 2, 0, 1, offset, total));
                        }
                        flow.Depthwise.Add((r, total));
                        Next(r);
                    }
                    else { Block(r, $"a grouped Conv (group {group}) mixes channels within groups"); return; }
                }
                else if (op == "Gemm" && slot == 0 && chAxis == 1 && valueRank == 2 && Weight(g, r.Inputs[1]) is not null)
                {
                    if (r.GetAttribute("transA")?.I == 1) { Block(r, "a Gemm with transA reads the channels as rows"); return; }
                    flow.Consumers.Add(new ChannelSlice(r, 1, r.GetAttribute("transB")?.I == 1 ? 1 : 0, block, offset, total));
                }
                else if (op == "MatMul" && slot == 0 && chAxis == valueRank - 1 && Weight(g, r.Inputs[1]) is { Shape.Length: 2 })
                    flow.Consumers.Add(new ChannelSlice(r, 1, 0, block, offset, total));
                else if (op is "Add" or "Sub" or "Mul" or "Div" && r.Inputs.Count == 2)
                {
                    if (!PerChannelConstant(r, 1 - slot, valueRank, chAxis, block, offset, total)) return;
                    Next(r);
                }
                else if (op == "Concat" && block == 1 && ConcatOffset(r, slot, valueRank, chAxis) is { } at)
                    Follow(r.Outputs[0], valueRank, chAxis, 1, offset + at.Before, at.Total);
                else if ((op == "Flatten" || op == "Reshape") && slot == 0 && chAxis == 1 && Flattens(r, value))
                {
                    var shape = g.TypeOf(value)!.StaticShape!;
                    int inner = 1;
                    for (int d = 2; d < shape.Length; d++) inner *= shape[d];
                    Follow(r.Outputs[0], 2, 1, block * inner, offset, total);
                }
                else
                {
                    Block(r, op switch
                    {
                        "Add" or "Sub" or "Mul" or "Div" => $"{op} combines the channels with another branch computed at run time (a residual connection: all its branches would have to keep the same channels)",
                        "Concat" => "Concat joins it with other tensors along another axis, or with shapes that are not static",
                        "Reshape" or "Flatten" => $"{op} mixes the channel axis with others",
                        _ => $"{op} is not channel-wise (it reads across channels or its shape is part of its semantics)",
                    });
                    return;
                }
            }

            void Next(Node r) => Follow(r.Outputs[0], valueRank, chAxis, block, offset, total);
        }

        // A Concat along the channel axis: the channels of the inputs before this one come first.
        (int Before, int Total)? ConcatOffset(Node r, int slot, int valueRank, int chAxis)
        {
            long a = r.GetAttribute("axis")?.I ?? 1;
            if (a < 0) a += valueRank;
            if (a != chAxis || r.Inputs.Count(i => i == r.Inputs[slot]) != 1) return null;
            int before = 0, all = 0;
            for (int i = 0; i < r.Inputs.Count; i++)
            {
                if (g.TypeOf(r.Inputs[i])?.StaticShape is not { } shape || shape.Length != valueRank) return null;
                if (i < slot) before += shape[chAxis];
                all += shape[chAxis];
            }
            return (before, all);
        }

        // The other operand of a binary op: a constant that is the same for every channel (size 1 on the channel axis) or
        // one value per channel (then it shrinks too), and does not make the output larger than the flowing value.
        bool PerChannelConstant(Node r, int other, int valueRank, int chAxis, int block, int offset, int total)
        {
            if (Weight(g, r.Inputs[other]) is not { } c) { Block(r, $"{r.OpType} combines the channels with another branch computed at run time (a residual connection: all its branches would have to keep the same channels)"); return false; }
            if (c.Shape.Length > valueRank) { Block(r, "its constant has a higher rank than the channels it combines with"); return false; }
            int cAxis = chAxis - (valueRank - c.Shape.Length);
            for (int d = 0; d < c.Shape.Length; d++)
            {
                int vd = d + valueRank - c.Shape.Length;
                if (vd != chAxis && c.Shape[d] != 1) { Block(r, "its constant varies along an axis other than the channels'"); return false; }
            }
            if (cAxis >= 0 && c.Shape[cAxis] != 1)
            {
                if (c.Shape[cAxis] != total || block != 1) { Block(r, "its constant does not have one value per channel"); return false; }
                flow.Slices.Add(new ChannelSlice(r, other, cAxis, 1, offset, total));
            }
            return true;
        }

        // Flatten(axis=1), or a Reshape to [N, C·rest] that keeps the leading dimension: channel c becomes a block of columns.
        bool Flattens(Node r, string value)
        {
            var inShape = g.TypeOf(value)?.StaticShape;
            var outShape = g.TypeOf(r.Outputs[0])?.StaticShape;
            if (inShape is null || outShape is null || inShape.Length < 2 || outShape.Length != 2) return false;
            if (r.OpType == "Flatten" && (r.GetAttribute("axis")?.I ?? 1) != 1) return false;
            long rest = 1;
            for (int d = 1; d < inShape.Length; d++) rest *= inShape[d];
            return outShape[0] == inShape[0] && outShape[1] == rest;
        }
    }
}

using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Training-mode Dropout (ratio / training_mode at run time or training_mode true: Dropout.Run, a seeded MT19937
/// mask reproducible across runs) and training-mode BatchNormalization (batch statistics and running statistics:
/// BatchNormTraining.Run). Called from the alias and normalization lowerings; float32 data (half data goes through
/// HalfPrecision).
/// </summary>
public static class TrainingModeLowering
{
    /// <summary>A float32 arena temporary for an output the graph does not use.</summary>
    private static string Scratch(LoweringContext ctx, Node n, string what, DataType type, int[] shape)
    {
        string name = ctx.FreshName($"{n.DisplayName}_{what}");
        ctx.Graph.ValueTypes[name] = IR.ValueType.FromShape(type, shape);
        return name;
    }

    private static string Optional(Node n, int i) => i < n.Inputs.Count ? n.Inputs[i] : "";

    public static void Dropout(LoweringContext ctx, Node n)
    {
        string x = n.Inputs[0], ratio = Optional(n, 1), mode = Optional(n, 2);
        ctx.RequireFloat(n, x, n.Outputs[0]);
        if (ratio.Length > 0 && ctx.TypeOf(ratio) != DataType.Float)
        {
            // A constant ratio of another float type is converted at build time; a computed one is not supported.
            var c = ctx.Constant(ratio) ?? throw ctx.Unsupported(n, $"with a {ctx.TypeOf(ratio).OnnxName()} ratio computed at run time");
            ratio = ctx.AddConstant(n.DisplayName + "_ratio", c.CastTo(DataType.Float));
        }
        var shape = ctx.Shape(n, x);
        ctx.Shape(n, n.Outputs[0]);
        string mask = n.Outputs.Count > 1 && n.Outputs[1].Length > 0 ? n.Outputs[1] : Scratch(ctx, n, "mask", DataType.Bool, shape);
        if (ctx.TypeOf(mask) != DataType.Bool) throw ctx.Unsupported(n, $"with a {ctx.TypeOf(mask).OnnxName()} mask");
        long seed = n.GetAttribute("seed")?.I ?? 0;
        if (seed < 0 || seed > uint.MaxValue) throw ctx.Unsupported(n, $"with seed {seed} outside [0, 2^32)");
        if (Shapes.Product(shape) == 0) return;
        ctx.Emit(n, "Dropout.Run", Read(x), ratio.Length > 0 ? Read(ratio) : Empty(), mode.Length > 0 ? Read(mode) : Empty(DataType.Bool),
            Write(n.Outputs[0]), Write(mask), new CallArg.Long(seed));
    }

    public static void BatchNorm(LoweringContext ctx, Node n, int[] x, float epsilon, float momentum)
    {
        if (n.Inputs.Count < 5) throw ctx.Unsupported(n, "without its five inputs");
        ctx.RequireFloat(n, [.. n.Inputs.Take(5), n.Outputs[0]]);
        if (x.Length < 2) throw ctx.Unsupported(n, $"in training mode on rank {x.Length} data");
        int c = x[1];
        foreach (var p in n.Inputs.Skip(1).Take(4))
            if (Shapes.Product(ctx.Shape(n, p)) != c) throw ctx.Unsupported(n, "in training mode with parameters that are not per channel");
        string Stat(int i, string what)
        {
            if (i < n.Outputs.Count && n.Outputs[i].Length > 0)
            {
                ctx.RequireFloat(n, n.Outputs[i]);
                return n.Outputs[i];
            }
            return Scratch(ctx, n, what, DataType.Float, [c]);
        }
        string runningMean = Stat(1, "running_mean"), runningVar = Stat(2, "running_var");
        if (Shapes.Product(x) == 0) throw ctx.Unsupported(n, "in training mode on an empty batch");
        ctx.Emit(n, "BatchNormTraining.Run", Read(n.Inputs[0]), Read(n.Inputs[1]), Read(n.Inputs[2]), Read(n.Inputs[3]), Read(n.Inputs[4]),
            Write(n.Outputs[0]), Write(runningMean), Write(runningVar), I(x[0]), I(c), I((int)Shapes.Product(x.AsSpan(2))), F(epsilon), F(momentum));
    }
}

/// <summary>LRN → Lrn.Run (float32; scalar, in double).</summary>
public sealed class LrnLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["LRN"];

    public void Lower(LoweringContext ctx, Node n)
    {
        ctx.RequireFloat(n, n.Inputs[0], n.Outputs[0]);
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length < 2) throw ctx.Unsupported(n, $"on rank {x.Length} data");
        var nc = ctx.NodeContext(n);
        if (Shapes.Product(x) == 0) return;
        ctx.Emit(n, "Lrn.Run", Read(n.Inputs[0]), Write(n.Outputs[0]), I(x[0]), I(x[1]), I((int)Shapes.Product(x.AsSpan(2))),
            I((int)nc.RequireInt("size")), F(nc.GetFloat("alpha", 1e-4f)), F(nc.GetFloat("beta", 0.75f)), F(nc.GetFloat("bias", 1f)));
    }
}

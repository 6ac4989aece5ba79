using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Conv, MaxPool and AveragePool outside the 2-D kernels (3 or more spatial axes; AveragePool with dilations)
/// → the direct scalar WindowNd kernels. Called from the Conv and pooling lowerings.
/// </summary>
public static class WindowNdLowering
{
    public static void Conv(LoweringContext ctx, Node n)
    {
        var x = ctx.Shape(n, n.Inputs[0]);
        var w = ctx.Shape(n, n.Inputs[1]);
        if (x.Length > 10 || w.Length != x.Length) throw ctx.Unsupported(n, $"with input rank {x.Length}");
        var nc = ctx.NodeContext(n);
        int rank = x.Length - 2;
        var a = ConvHelpers.ReadAttributes(nc, rank);
        var kernel = w[2..];
        if (a.KernelShape is { } ks && !ks.SequenceEqual(kernel)) throw ctx.Unsupported(n, "with kernel_shape different from W's");
        var geo = ConvHelpers.Forward(nc, a, x[2..], kernel);
        int group = (int)nc.GetInt("group", 1);
        string bias = n.Inputs.Count > 2 ? n.Inputs[2] : "";
        if (bias.Length > 0) ctx.RequireFloat(n, bias);
        if (!ctx.Shape(n, n.Outputs[0]).SequenceEqual(new[] { x[0], w[0] }.Concat(geo.OutputSpatial)))
            throw ctx.Unsupported(n, "whose inferred output shape disagrees with the kernel geometry");
        ctx.Emit(n, "WindowNd.Conv", Read(n.Inputs[0]), Read(n.Inputs[1]), bias.Length > 0 ? Read(bias) : Empty(), Write(n.Outputs[0]),
            I(x[0]), I(x[1]), I(w[0]), I(group), Ints(x[2..]), Ints(geo.OutputSpatial), Ints(kernel), Ints(a.Strides), Ints(geo.PadsBegin), Ints(a.Dilations));
    }

    public static void Pool(LoweringContext ctx, Node n)
    {
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length < 3 || x.Length > 10) throw ctx.Unsupported(n, $"with input rank {x.Length}");
        var nc = ctx.NodeContext(n);
        var a = ConvHelpers.ReadPoolAttributes(nc, x.Select(d => Dim.Known(d)).ToArray());
        var geo = ConvHelpers.Forward(nc, a, x[2..], a.KernelShape!);
        if (!ctx.Shape(n, n.Outputs[0]).SequenceEqual(new[] { x[0], x[1] }.Concat(geo.OutputSpatial)))
            throw ctx.Unsupported(n, "whose inferred output shape disagrees with the kernel geometry");
        bool max = n.OpType == "MaxPool";
        ctx.Emit(n, "WindowNd.Pool", B(max), Read(n.Inputs[0]), Write(n.Outputs[0]), I(x[0] * x[1]), Ints(x[2..]), Ints(geo.OutputSpatial),
            Ints(a.KernelShape!), Ints(a.Strides), Ints(geo.PadsBegin), Ints(geo.PadsEnd), Ints(a.Dilations),
            B(!max && nc.GetInt("count_include_pad", 0) != 0));
    }

    /// <summary>MaxPool with the Indices output (int64) → MaxPoolIndices.Run.</summary>
    public static void MaxPoolWithIndices(LoweringContext ctx, Node n)
    {
        var x = ctx.Shape(n, n.Inputs[0]);
        if (x.Length < 3 || x.Length > 10) throw ctx.Unsupported(n, $"with input rank {x.Length}");
        if (ctx.TypeOf(n.Outputs[1]) != DataType.Int64) throw ctx.Unsupported(n, "with non-int64 indices");
        var nc = ctx.NodeContext(n);
        var a = ConvHelpers.ReadPoolAttributes(nc, x.Select(d => Dim.Known(d)).ToArray());
        var geo = ConvHelpers.Forward(nc, a, x[2..], a.KernelShape!);
        var shape = new[] { x[0], x[1] }.Concat(geo.OutputSpatial).ToArray();
        if (!ctx.Shape(n, n.Outputs[0]).SequenceEqual(shape) || !ctx.Shape(n, n.Outputs[1]).SequenceEqual(shape))
            throw ctx.Unsupported(n, "whose inferred output shape disagrees with the kernel geometry");
        ctx.Emit(n, "MaxPoolIndices.Run", Read(n.Inputs[0]), Write(n.Outputs[0]), Write(n.Outputs[1]), I(x[0] * x[1]), Ints(x[2..]), Ints(geo.OutputSpatial),
            Ints(a.KernelShape!), Ints(a.Strides), Ints(geo.PadsBegin), Ints(a.Dilations), B(nc.GetInt("storage_order", 0) == 1));
    }
}

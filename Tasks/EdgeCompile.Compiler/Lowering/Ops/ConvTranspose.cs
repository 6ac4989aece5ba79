using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// ConvTranspose (any number of spatial axes) → WindowNd.ConvTranspose. Output sizes and pads (output_padding,
/// output_shape, auto_pad) are resolved at build time with <see cref="ConvHelpers.TransposeAxis"/>, as the
/// reference executor does.
/// </summary>
public sealed class ConvTransposeLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["ConvTranspose"];

    public void Lower(LoweringContext ctx, Node n)
    {
        string bias = n.Inputs.Count > 2 ? n.Inputs[2] : "";
        ctx.RequireFloat(n, n.Inputs[0], n.Inputs[1], bias);
        var x = ctx.Shape(n, n.Inputs[0]);
        var w = ctx.Shape(n, n.Inputs[1]);
        var yShape = ctx.Shape(n, n.Outputs[0]);
        if (x.Length < 3 || x.Length > 10 || w.Length != x.Length) throw ctx.Unsupported(n, $"with input rank {x.Length}");
        int rank = x.Length - 2;
        var nc = ctx.NodeContext(n);
        var a = ConvHelpers.ReadAttributes(nc, rank);
        int group = (int)ConvHelpers.ReadGroup(nc);
        var kernel = w[2..];
        if (a.KernelShape is { } ks && !ks.SequenceEqual(kernel)) throw ctx.Unsupported(n, "with kernel_shape different from W's");
        var op = nc.GetInts("output_padding") is { } o ? ConvHelpers.Ints(nc, "output_padding", o, rank, min: 0) : new int[rank];
        long[]? os = nc.GetInts("output_shape");
        if (os is not null && os.Length == rank + 2) os = os[2..];
        if (os is not null && os.Length != rank) throw ctx.Unsupported(n, "with a malformed output_shape");
        int c = x[1], m = w[1] * group;
        if (w[0] != c || c % group != 0) throw ctx.Unsupported(n, "with W not matching X's channels");
        var outSpatial = new int[rank]; var pb = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            var g = ConvHelpers.TransposeAxis(nc, i, x[i + 2], kernel[i], a.Strides[i], a.Dilations[i], a.Pads[i], a.Pads[i + rank], op[i], os?[i], a.AutoPad);
            outSpatial[i] = g.Output; pb[i] = g.PadBegin;
        }
        if (yShape.Length != x.Length || yShape[0] != x[0] || yShape[1] != m || !yShape[2..].SequenceEqual(outSpatial))
            throw ctx.Unsupported(n, "whose inferred output shape disagrees with the kernel geometry");
        ctx.Emit(n, "WindowNd.ConvTranspose", Read(n.Inputs[0]), Read(n.Inputs[1]), bias.Length > 0 ? Read(bias) : Empty(), Write(n.Outputs[0]),
            I(x[0]), I(c), I(m), I(group), Ints(x[2..]), Ints(outSpatial), Ints(kernel), Ints(a.Strides), Ints(pb), Ints(a.Dilations));
    }
}

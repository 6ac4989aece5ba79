using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Upsample (opset 7 with a 'scales' attribute, opset 9 with a scales input; deprecated since 10):
/// Resize with asymmetric coordinates, modes nearest (floor when upsampling) and linear; out = floor(in * scale).
/// </summary>
public sealed class Upsample : Operator
{
    public override string OpType => "Upsample";
    public override IReadOnlyCollection<string> Attributes => ["mode", "scales"];
    public override int MinInputs => 1;
    public override int MaxInputs => 2;

    private static double[]? Scales(NodeContext ctx, Tensor? input)
    {
        if (ctx.GetFloats("scales") is { } attr) return attr.Select(f => (double)f).ToArray();
        return input is null ? null : Common.MatMulHelpers.DoubleValues(input);
    }

    private static Resize.Options Options(NodeContext ctx)
    {
        var mode = ctx.GetString("mode", "nearest");
        if (mode == "bilinear") mode = "linear"; // opset 7 spelling
        if (mode is not ("nearest" or "linear"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Upsample mode '{mode}' is not supported; use nearest or linear.");
        return new Resize.Options(mode, "asymmetric", "simple", -0.75, false, 0, false);
    }

    public override void InferTypes(InferenceContext ctx)
    {
        Options(ctx);
        var t = ctx.InputElemType(0);
        var x = ctx.InputShape(0);
        var s = Scales(ctx, ctx.ConstantInput(1));
        if (x is null || s is null) { ctx.SetOutput(0, t, x is null ? null : x.Select(_ => Dim.Unknown).ToArray()); return; }
        if (s.Length != x.Length) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Upsample has {s.Length} scales for an input of rank {x.Length}.");
        ctx.SetOutput(0, t, x.Select((d, i) => s[i] == 1 ? d : d.IsKnown ? Dim.Known((long)Math.Floor(d.Value * s[i])) : Dim.Unknown).ToArray());
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var s = Scales(ctx, ctx.Input(1)) ?? throw ctx.Error(EdgeCodes.InvalidArity, "Upsample needs scales (attribute before opset 9, input since).");
        if (s.Length != x.Rank) throw ctx.Error(EdgeCodes.ShapeMismatch, $"Upsample has {s.Length} scales for an input of rank {x.Rank}.");
        if (s.Any(v => !(v >= 1))) throw ctx.Error(EdgeCodes.InvalidValue, "Upsample scales must be ≥ 1.");
        var plan = new Resize.Plan(x.Shape.Select((d, i) => checked((int)Math.Floor(d * s[i]))).ToArray(), s,
            new double[x.Rank], Enumerable.Repeat(1.0, x.Rank).ToArray());
        ctx.SetOutput(0, Resize.Interpolate(ctx, x, plan, Options(ctx)));
    }
}

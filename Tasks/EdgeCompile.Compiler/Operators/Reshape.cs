using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Reshape (opset 5+: shape is an input): same data, new shape. In the shape, -1 (at most once) is
/// inferred from the element count, and 0 copies the input's dim at that position unless
/// allowzero=1 (opset 14+), where 0 is a real zero-sized dim (and then -1 may not appear with it).
/// </summary>
public sealed class Reshape : Operator
{
    public override string OpType => "Reshape";
    public override IReadOnlyCollection<string> Attributes => ["allowzero"];
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var shapeT = ctx.ConstantInput(1);
        if (shapeT is null)
        {
            ctx.SetOutput(0, type, ShapeHelpers.Length1D(ctx, 1) is { } rank ? ShapeHelpers.UnknownDims((int)rank) : null);
            return;
        }
        var requested = Requested(ctx, shapeT);
        bool allowZero = AllowZero(ctx);
        var input = ctx.InputShape(0);
        var result = new Dim[requested.Length];
        int inferred = -1;
        for (int i = 0; i < requested.Length; i++)
        {
            long r = requested[i];
            if (r == -1) { inferred = i; result[i] = Dim.Unknown; }
            else if (r == 0 && !allowZero)
                result[i] = input is null ? Dim.Unknown : i < input.Length ? input[i]
                    : throw ctx.Error(EdgeCodes.ShapeMismatch, $"Shape entry {i} is 0 (copy the input dim) but the input has rank {input.Length}.");
            else result[i] = Dim.Known(r);
        }
        if (inferred >= 0 && input is not null)
        {
            var total = ShapeRules.KnownProduct(input);
            var rest = ShapeRules.KnownProduct(result.Where((_, i) => i != inferred));
            if (total is { } t && rest is { } p)
                result[inferred] = Dim.Known(InferredDim(ctx, t, p));
        }
        else if (input is not null && ShapeRules.KnownProduct(input) is { } t && ShapeRules.KnownProduct(result) is { } p && t != p)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Cannot reshape {input.Length}-D input with {t} elements to a shape with {p} elements.");
        ctx.SetOutput(0, type, result);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        var requested = Requested(ctx, ctx.RequireInput(1));
        bool allowZero = AllowZero(ctx);
        var shape = new int[requested.Length];
        int inferred = -1;
        for (int i = 0; i < requested.Length; i++)
        {
            long r = requested[i];
            if (r == -1) { inferred = i; shape[i] = 1; }
            else if (r == 0 && !allowZero)
                shape[i] = i < x.Rank ? x.Shape[i]
                    : throw ctx.Error(EdgeCodes.ShapeMismatch, $"Shape entry {i} is 0 (copy the input dim) but the input has rank {x.Rank}.");
            else shape[i] = ShapeHelpers.ToInt(ctx, r, "Dimension");
        }
        if (inferred >= 0) shape[inferred] = (int)InferredDim(ctx, x.Length, Shapes.Product(shape));
        if (Shapes.Product(shape) != x.Length)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Cannot reshape {Shapes.Format(x.Shape)} ({x.Length} elements) to {Shapes.Format(shape)}.");
        ctx.SetOutput(0, x.Reshape(shape));
    }

    private static bool AllowZero(NodeContext ctx) => ctx.Opset >= 14 && ctx.GetInt("allowzero", 0) != 0;

    private static long[] Requested(NodeContext ctx, Tensor shapeT)
    {
        if (shapeT.DataType != DataType.Int64)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"The shape input must be int64, got {shapeT.DataType.OnnxName()}.");
        var r = ShapeHelpers.Ints(ctx, shapeT, "shape");
        if (r.Count(v => v == -1) > 1)
            throw ctx.Error(EdgeCodes.InvalidValue, $"The shape [{string.Join(",", r)}] has more than one -1.");
        if (r.Any(v => v < -1))
            throw ctx.Error(EdgeCodes.InvalidValue, $"The shape [{string.Join(",", r)}] has a negative entry other than -1.");
        if (AllowZero(ctx) && r.Contains(0) && r.Contains(-1))
            throw ctx.Error(EdgeCodes.InvalidValue, $"With allowzero=1 the shape [{string.Join(",", r)}] may not contain both 0 and -1.");
        return r;
    }

    private static long InferredDim(NodeContext ctx, long total, long rest)
    {
        if (rest == 0 || total % rest != 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Cannot infer the -1 dimension: {total} elements do not divide into blocks of {rest}.");
        return total / rest;
    }
}

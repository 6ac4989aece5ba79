using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Pow (broadcasting since opset 7; since opset 12 the exponent may have another numeric type than the
/// base): Z = X ^ Y with Z of X's type.
/// Float base: computed in double, rounded once. Integer base with float exponent: the double result
/// truncated toward zero (and wrapped) into the base's type. Integer base with integer exponent: exact
/// repeated multiplication with two's complement wrap; a negative exponent gives 1/(x^|y|) truncated
/// (1, ±1 for x = -1, else 0), and 0 to a negative power is a coded error (division by zero).
/// </summary>
public sealed class Pow : Operator
{
    public override string OpType => "Pow";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0);
        BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 1);
        ctx.SetOutput(0, ctx.InputElemType(0), ShapeRules.Broadcast(ctx, ctx.InputShape(0), ctx.InputShape(1)));
    }

    public override void Execute(ExecutionContext ctx)
    {
        var type = BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0);
        var expType = BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 1);
        var x = ctx.RequireInput(0);
        var y = ctx.RequireInput(1);
        var shape = Elementwise.BroadcastShape(ctx, x, y);
        var ix = Shapes.BroadcastIndex(x.Shape, shape);
        var iy = Shapes.BroadcastIndex(y.Shape, shape);
        int n = ix.Length;

        if (type.IsFloat() || expType.IsFloat())
        {
            var a = x.ToDoubles(); var b = y.ToDoubles();
            var r = new double[n];
            for (int i = 0; i < n; i++) r[i] = Math.Pow(a[ix[i]], b[iy[i]]);
            ctx.SetOutput(0, Tensor.FromDoubles(type, shape, r));
            return;
        }

        var bases = x.ToInt64s();
        var exps = y.ToInt64s();
        bool unsignedBase = type.IsUnsignedInteger();
        bool unsignedExp = expType.IsUnsignedInteger();
        var res = new long[n];
        for (int i = 0; i < n; i++)
        {
            long b = bases[ix[i]], e = exps[iy[i]];
            res[i] = e >= 0 || unsignedExp ? IntPow(b, unchecked((ulong)e)) : NegativePower(ctx, b, e, unsignedBase);
        }
        ctx.SetOutput(0, Tensor.FromInt64s(type, shape, res));
    }

    /// <summary>b^e by squaring, wrapping in 64 bits (the low bits are the same for every narrower type).</summary>
    private static long IntPow(long b, ulong e)
    {
        long result = 1;
        while (e != 0)
        {
            if ((e & 1) != 0) result = unchecked(result * b);
            b = unchecked(b * b);
            e >>= 1;
        }
        return result;
    }

    private static long NegativePower(ExecutionContext ctx, long b, long e, bool unsignedBase)
    {
        if (b == 0) throw ctx.Error(EdgeCodes.InvalidValue, "Pow: integer 0 raised to a negative power (division by zero).");
        if (b == 1) return 1;
        if (b == -1 && !unsignedBase) return (e & 1) != 0 ? -1 : 1;
        return 0;
    }
}

using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Mod (opset 10+, broadcasting). fmod=0 (default): integer modulus whose result takes the divisor's
/// sign (Python's %). fmod=1: C fmod, the result takes the dividend's sign; the spec requires fmod=1 for
/// floating-point inputs. Integer division by zero is a coded error.
/// </summary>
public sealed class Mod : Operator
{
    public override string OpType => "Mod";
    public override IReadOnlyCollection<string> Attributes => ["fmod"];
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var type = BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type");
        bool fmod = Fmod(ctx);
        if (type is { } t && t.IsFloat() && !fmod)
            throw ctx.Error(EdgeCodes.InvalidAttribute, "Mod on floating-point inputs requires fmod=1 (the spec defines only C fmod for floats).");
        ShapeRules.Broadcast(ctx, type ?? ctx.InputElemType(0));
    }

    public override void Execute(ExecutionContext ctx)
    {
        var type = BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0, 1);
        bool fmod = Fmod(ctx);
        if (type.IsFloat())
        {
            if (!fmod) throw ctx.Error(EdgeCodes.InvalidAttribute, "Mod on floating-point inputs requires fmod=1 (the spec defines only C fmod for floats).");
            // C# % on doubles is C fmod (exact); the result is representable in the input type.
            Elementwise.Binary(ctx, (a, b) => a % b, null);
            return;
        }
        Elementwise.Binary(ctx, (a, b) => a % b,
            (a, b) =>
            {
                if (b == 0) throw DivisionByZero(ctx);
                if (b == -1) return 0; // avoids long.MinValue % -1, which C# rejects
                long r = a % b;
                if (!fmod && r != 0 && (r < 0) != (b < 0)) r += b;
                return r;
            },
            (a, b) => b == 0 ? throw DivisionByZero(ctx) : a % b);
    }

    private static bool Fmod(NodeContext ctx)
    {
        long v = ctx.GetInt("fmod", 0);
        if (v is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"Mod attribute fmod must be 0 or 1, got {v}.");
        return v == 1;
    }

    private static EdgeException DivisionByZero(ExecutionContext ctx) =>
        ctx.Error(EdgeCodes.InvalidValue, "Mod: integer division by zero (the divisor input B contains 0).");
}

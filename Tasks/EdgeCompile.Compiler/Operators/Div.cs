using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Div (broadcasting since opset 7): A / B. Integer division truncates toward zero (C semantics, as the
/// conformance data and ONNX Runtime do: -3 / 2 = -1); uint64 divides unsigned. Integer division by zero
/// is a coded error; float division by zero gives ±inf or NaN (IEEE).
/// </summary>
public sealed class Div : Operator
{
    public override string OpType => "Div";
    public override IReadOnlyCollection<string> Attributes => Elementwise.LegacyBroadcastAttributes;
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, BinaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx)
    {
        BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0, 1);
        Elementwise.Binary(ctx, (a, b) => a / b,
            (a, b) =>
            {
                if (b == 0) throw DivisionByZero(ctx);
                return b == -1 ? unchecked(-a) : a / b; // long.MinValue / -1 wraps (C# would throw)
            },
            (a, b) => b == 0 ? throw DivisionByZero(ctx) : a / b);
    }

    private static EdgeException DivisionByZero(ExecutionContext ctx) =>
        ctx.Error(EdgeCodes.InvalidValue, "Integer division by zero: the divisor input B contains 0.");
}

using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Mul (broadcasting since opset 7): A * B, integers wrap.</summary>
public sealed class Mul : Operator
{
    public override string OpType => "Mul";
    public override IReadOnlyCollection<string> Attributes => Elementwise.LegacyBroadcastAttributes;
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, BinaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx)
    {
        BinaryHelpers.CheckSameType(ctx, BinaryHelpers.IsNumeric, "a numeric type", 0, 1);
        Elementwise.Binary(ctx, (a, b) => a * b, (a, b) => unchecked(a * b));
    }
}

using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Add (opset 1+; broadcasting since 7): A + B, integers wrap.</summary>
public sealed class Add : Operator
{
    public override string OpType => "Add";
    // 'broadcast' and 'axis' existed before opset 7 (legacy broadcasting, see Elementwise.LegacyBroadcast).
    public override IReadOnlyCollection<string> Attributes => Elementwise.LegacyBroadcastAttributes;
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx) =>
        BinaryHelpers.InferBroadcast(ctx, BinaryHelpers.IsNumeric, "a numeric type");

    public override void Execute(ExecutionContext ctx) =>
        Elementwise.Binary(ctx, (a, b) => a + b, (a, b) => unchecked(a + b));
}

using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Softmax: exp(x - max) / sum(exp(x - max)) along 'axis'. Before opset 13 the input is viewed as a matrix
/// [d0*...*d(axis-1), d(axis)*...*dn] and each row is one lane (default axis 1); from opset 13 the lanes
/// run along the single axis (default -1).
/// </summary>
public sealed class Softmax : Operator
{
    public override string OpType => "Softmax";
    public override IReadOnlyCollection<string> Attributes => ["axis"];

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferSoftmax(ctx);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteSoftmax(ctx, SoftmaxKind.Softmax);
}

using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// LogSoftmax: x - max - log(sum(exp(x - max))) along 'axis'. Before opset 13 the input is viewed as a matrix
/// [d0*...*d(axis-1), d(axis)*...*dn] and each row is one lane (default axis 1); from opset 13 the lanes
/// run along the single axis (default -1).
/// </summary>
public sealed class LogSoftmax : Operator
{
    public override string OpType => "LogSoftmax";
    public override IReadOnlyCollection<string> Attributes => ["axis"];

    public override void InferTypes(InferenceContext ctx) => ReduceHelpers.InferSoftmax(ctx);

    public override void Execute(ExecutionContext ctx) => ReduceHelpers.ExecuteSoftmax(ctx, SoftmaxKind.LogSoftmax);
}

using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// MatMul (opset 1+): numpy <c>matmul</c>. A 1-D first operand is promoted to a row [1, K] and a 1-D second
/// operand to a column [K, 1], the promoted dims being dropped from the result; batch dims broadcast.
/// Floats accumulate in double and round once; integers wrap.
/// </summary>
public sealed class MatMul : Operator
{
    public override string OpType => "MatMul";
    public override int MinInputs => 2;
    public override int MaxInputs => 2;

    public override void InferTypes(InferenceContext ctx)
    {
        var t = ctx.InputElemType(0);
        if (ctx.InputType(1) is { } b && b.ElemType != t)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"MatMul operand types differ ({t.OnnxName()} vs {b.ElemType.OnnxName()}).");
        ctx.SetOutput(0, t, MatMulHelpers.InferMatMulShape(ctx, ctx.InputShape(0), ctx.InputShape(1)));
    }

    public override void Execute(ExecutionContext ctx) =>
        ctx.SetOutput(0, MatMulHelpers.MatMul(ctx, ctx.RequireInput(0), ctx.RequireInput(1)));
}

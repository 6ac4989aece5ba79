using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>Not (opset 1): logical negation of a bool tensor.</summary>
public sealed class Not : Operator
{
    public override string OpType => "Not";

    public override void InferTypes(InferenceContext ctx) => UnaryHelpers.InferSame(ctx, UnaryHelpers.IsBool, "bool");

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        UnaryHelpers.CheckType(ctx, x.DataType, UnaryHelpers.IsBool, "bool");
        var v = x.ToBools();
        for (int i = 0; i < v.Length; i++) v[i] = !v[i];
        ctx.SetOutput(0, new Tensor(DataType.Bool, x.Shape, v));
    }
}

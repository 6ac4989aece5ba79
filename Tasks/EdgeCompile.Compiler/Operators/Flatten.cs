using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Flatten (opset 1+; negative axis from 11): a 2-D view (d0*...*d(axis-1), d(axis)*...*d(n-1)).
/// axis is in [-r, r]; axis 0 gives (1, total).
/// </summary>
public sealed class Flatten : Operator
{
    public override string OpType => "Flatten";
    public override IReadOnlyCollection<string> Attributes => ["axis"];

    public override void InferTypes(InferenceContext ctx)
    {
        var type = ctx.InputElemType(0);
        var s = ctx.InputShape(0);
        if (s is null) { ctx.SetOutput(0, type, ShapeHelpers.UnknownDims(2)); return; }
        int axis = Axis(ctx, s.Length);
        Dim Product(IEnumerable<Dim> dims) => ShapeRules.KnownProduct(dims) is { } p ? Dim.Known(p) : Dim.Unknown;
        var outer = s.Take(axis).ToArray();
        var inner = s.Skip(axis).ToArray();
        // A zero-sized dim on either side makes that side 0, whatever the other dims are.
        Dim o = outer.Any(d => d.IsKnown && d.Value == 0) ? Dim.Known(0) : Product(outer);
        Dim i = inner.Any(d => d.IsKnown && d.Value == 0) ? Dim.Known(0) : Product(inner);
        if (outer.Length == 1) o = outer[0];
        if (inner.Length == 1) i = inner[0];
        ctx.SetOutput(0, type, [o, i]);
    }

    public override void Execute(ExecutionContext ctx)
    {
        var x = ctx.RequireInput(0);
        int axis = Axis(ctx, x.Rank);
        int outer = (int)Shapes.Product(x.Shape.AsSpan(0, axis));
        int inner = (int)Shapes.Product(x.Shape.AsSpan(axis));
        ctx.SetOutput(0, x.Reshape([outer, inner]));
    }

    private static int Axis(NodeContext ctx, int rank)
    {
        long axis = ctx.GetInt("axis", 1);
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a > rank)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"axis {axis} is out of range for rank {rank} (allowed: [-{rank}, {rank}]).");
        return (int)a;
    }
}

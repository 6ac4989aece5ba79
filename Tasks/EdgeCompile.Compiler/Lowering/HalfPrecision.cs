using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering.Ops;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering;

/// <summary>
/// float16 and bfloat16 are storage types in compiled classes: Run parameters, buffers, weights, Cast/CastLike and
/// the generic data-movement kernels take them as they are (System.Half, EdgeCompile.Kernels.BFloat16). Every other
/// operator on them computes in float32: its half inputs are widened (exactly) by Elementwise.Cast — constants at
/// build time — the float32 lowering runs, and each half output is rounded once (to nearest, ties to even) by
/// Elementwise.Cast. That is ONNX Runtime's CPU behaviour for these types (compute in float, round per operator)
/// and the reference executor's up to its computing in double: a float32 result and a double one round to the same
/// half except within ~1e-7 relative of a rounding boundary. The same widening serves operators that only select
/// values (MaxPool, ReduceMax/Min) on bool and 8/16-bit integer data, where it is exact.
/// </summary>
internal static class HalfPrecision
{
    public static bool IsHalf(DataType t) => t is DataType.Float16 or DataType.BFloat16;

    /// <summary>Operators that only select among their inputs' values (an order-preserving widening commutes with them).</summary>
    private static readonly HashSet<string> s_selecting = new(StringComparer.Ordinal) { "MaxPool", "GlobalMaxPool", "ReduceMax", "ReduceMin" };

    /// <summary>
    /// Whether value type <paramref name="t"/> of <paramref name="n"/> is computed in float32 when no kernel takes it:
    /// float16/bfloat16 always; bool and 8/16-bit integers (exact in float32) for operators that only select values.
    /// </summary>
    private static bool Widens(Node n, DataType t) => IsHalf(t)
        || s_selecting.Contains(n.OpType) && t is DataType.Bool or DataType.UInt8 or DataType.Int8 or DataType.Int16 or DataType.UInt16;

    /// <summary>
    /// Lowers <paramref name="n"/>: directly when it involves no half value or the lowering takes half data as it is
    /// (data movement, Where, Cast); otherwise (the lowering refuses half data with EDGE2101) in float32 between casts.
    /// </summary>
    public static void Lower(LoweringContext ctx, Node n, IOpLowering lowering)
    {
        if (n.OpType is "Cast" or "CastLike" || !n.Inputs.Concat(n.Outputs).Any(v => v.Length > 0 && Widens(n, ctx.TypeOf(v))))
        {
            lowering.Lower(ctx, n);
            return;
        }
        int calls = ctx.Calls.Count;
        var aliases = new Dictionary<string, string>(ctx.Aliases, StringComparer.Ordinal);
        var fused = new HashSet<Node>(ctx.Fused);
        try
        {
            lowering.Lower(ctx, n);
            return;
        }
        catch (EdgeException e) when (e.Code == EdgeCodes.NoKernel)
        {
            // Undo whatever the attempt emitted (constants it added are unused, so they never reach the weights).
            ctx.Calls.RemoveRange(calls, ctx.Calls.Count - calls);
            ctx.Aliases.Clear();
            foreach (var (k, v) in aliases) ctx.Aliases[k] = v;
            ctx.Fused.Clear();
            ctx.Fused.UnionWith(fused);
        }

        // Only the data operand of a selecting operator widens (ReduceMax's axes stay int64).
        var inputs = n.Inputs.Select((i, k) => i.Length > 0 && Widens(n, ctx.TypeOf(i)) && (k == 0 || IsHalf(ctx.TypeOf(i))) ? Widened(ctx, n, i) : i).ToList();
        var outputs = new List<string>();
        var narrow = new List<(string Wide, string Half)>();
        foreach (var o in n.Outputs)
        {
            if (o.Length == 0 || !Widens(n, ctx.TypeOf(o)) || o != n.Outputs[0] && !IsHalf(ctx.TypeOf(o))) { outputs.Add(o); continue; }
            string wide = ctx.FreshName(o + "__f32");
            ctx.Graph.ValueTypes[wide] = IR.ValueType.FromShape(DataType.Float, ctx.Shape(n, o));
            outputs.Add(wide);
            narrow.Add((wide, o));
        }
        var wideNode = new Node
        {
            Name = n.Name, OpType = n.OpType, Domain = n.Domain, Attributes = n.Attributes, DocString = n.DocString,
            Inputs = inputs, Outputs = outputs,
        };
        lowering.Lower(ctx, wideNode);
        foreach (var (wide, half) in narrow)
            if (Shapes.Product(ctx.Shape(n, half)) > 0)
                ctx.Emit(n, "Elementwise.Cast", Read(wide), Write(half));
    }

    /// <summary>The float32 copy of half value <paramref name="value"/>: a converted constant, or one cast shared by all readers.</summary>
    private static string Widened(LoweringContext ctx, Node n, string value)
    {
        if (ctx.Widened.TryGetValue(value, out var known)) return known;
        string wide;
        if (ctx.Constant(value) is { } c)
            wide = ctx.AddConstant(value + "_f32", c.CastTo(DataType.Float));
        else
        {
            var shape = ctx.Shape(n, value);
            wide = ctx.FreshName(value + "__f32");
            ctx.Graph.ValueTypes[wide] = IR.ValueType.FromShape(DataType.Float, shape);
            if (Shapes.Product(shape) > 0) ctx.Emit(n, "Elementwise.Cast", Read(value), Write(wide));
        }
        ctx.Widened[value] = wide;
        return wide;
    }
}

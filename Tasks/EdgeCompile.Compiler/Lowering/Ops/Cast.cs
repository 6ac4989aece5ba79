using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Cast and CastLike → Elementwise.Cast (ONNX semantics, as the reference executor: float→int truncates, ints wrap).
/// Casting to the same type is an alias; casting a constant is done at build time.
/// </summary>
public sealed class CastLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Cast", "CastLike"];

    public void Lower(LoweringContext ctx, Node n)
    {
        var from = ctx.TypeOf(n.Inputs[0]);
        var to = ctx.TypeOf(n.Outputs[0]);
        if (!IsPlanType(from)) throw ctx.Unsupported(n, $"from {from.OnnxName()}");
        if (!IsPlanType(to)) throw ctx.Unsupported(n, $"to {to.OnnxName()}");
        ctx.Shape(n, n.Outputs[0]);
        if (from == to) { ctx.Alias(n.Outputs[0], n.Inputs[0]); return; }
        if (ctx.Constant(n.Inputs[0]) is { } c)
        {
            ctx.Alias(n.Outputs[0], ctx.AddConstant(n.DisplayName + "_cast", c.CastTo(to)));
            return;
        }
        if (Shapes.Product(ctx.Shape(n, n.Inputs[0])) == 0) return;
        ctx.Emit(n, "Elementwise.Cast", Read(n.Inputs[0]), Write(n.Outputs[0]));
    }

    /// <summary>Element types the typed compute kernels (Compare, BinaryInteger, ...) take.</summary>
    public static bool IsKernelType(DataType t) =>
        t is DataType.Float or DataType.Double or DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8 or DataType.UInt8 or DataType.UInt16
            or DataType.UInt32 or DataType.UInt64 or DataType.Bool;

    /// <summary>
    /// The plan's dtypes: what Run parameters, buffers, Cast and the generic data-movement kernels take. float16 and
    /// bfloat16 are storage types only: other operators compute them in float32 (Lowering/HalfPrecision.cs).
    /// </summary>
    public static bool IsPlanType(DataType t) => IsKernelType(t) || t is DataType.Float16 or DataType.BFloat16;
}

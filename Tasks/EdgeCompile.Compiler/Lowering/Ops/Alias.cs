using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Operators that only reinterpret the shape (row-major data unchanged) compile to nothing: the output
/// shares the input's buffer. Dropout in inference mode is the identity.
/// </summary>
public sealed class AliasLowering : IOpLowering
{
    public IEnumerable<string> OpTypes => ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"];

    public void Lower(LoweringContext ctx, Node n)
    {
        if (n.OpType == "Dropout")
        {
            // Training mode (or a mode known only at run time) with a ratio that may be non-zero: the seeded kernel.
            bool maybeTraining = n.Inputs.Count > 2 && n.Inputs[2].Length > 0 && (ctx.Constant(n.Inputs[2]) is not { } mode || mode.ToBools()[0]);
            bool zeroRatio = n.Inputs.Count > 1 && n.Inputs[1].Length > 0 && ctx.Constant(n.Inputs[1]) is { } r && r.ToDoubles()[0] == 0;
            if (maybeTraining && !zeroRatio)
            {
                TrainingModeLowering.Dropout(ctx, n);
                return;
            }
            if (n.Outputs.Count > 1 && n.Outputs[1].Length > 0) DropoutMaskLowering.Lower(ctx, n);
        }
        // Static shapes are required of every value, the output included.
        ctx.Shape(n, n.Outputs[0]);
        ctx.Alias(n.Outputs[0], n.Inputs[0]);
    }
}

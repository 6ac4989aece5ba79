using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Opset &lt; 7 binary broadcasting with an 'axis' attribute: B's dimensions line up with A's starting at 'axis'.
/// Returns B's shape padded with trailing 1s so the numpy (right-aligned) strides express it.
/// </summary>
public static class LegacyBroadcast
{
    public static int[] Align(LoweringContext ctx, Node n, int[] b, long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a + b.Length > rank) throw ctx.Unsupported(n, $"with legacy axis {axis} that does not fit B's rank {b.Length}");
        return [.. b, .. Enumerable.Repeat(1, rank - (int)a - b.Length)];
    }
}

using EdgeCompile.Compiler.IR;
using static EdgeCompile.Compiler.Lowering.LoweringContext;

namespace EdgeCompile.Compiler.Lowering.Ops;

/// <summary>
/// Shared by the index-map lowerings (Maps.* kernels): with static shapes and constant parameters each output
/// element's source is a build-time constant, stored as an int32 weight. Every entry is validated here.
/// </summary>
internal static class IndexMaps
{
    public static bool Supported(DataType t) =>
        t is DataType.Float or DataType.Double or DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8
            or DataType.UInt8 or DataType.UInt16 or DataType.Bool;

    public static void RequireSupported(LoweringContext ctx, Node n, string value)
    {
        var t = ctx.TypeOf(value);
        if (!Supported(t)) throw ctx.Unsupported(n, $"on {t.OnnxName()} data");
    }

    /// <summary>Per-axis source maps (-1: fill) → one flat map over the output (-1 where any axis fills).</summary>
    public static int[] Combine(int[] inShape, int[] outShape, int[][] axisMaps)
    {
        int rank = outShape.Length;
        var inStrides = Shapes.Strides(inShape);
        int count = checked((int)Shapes.Product(outShape));
        var map = new int[count];
        var oc = new int[rank];
        for (int e = 0; e < count; e++)
        {
            long src = 0;
            for (int d = 0; d < rank; d++)
            {
                int s = axisMaps[d][oc[d]];
                if (s < 0) { src = -1; break; }
                src += (long)s * inStrides[d];
            }
            map[e] = (int)src;
            for (int d = rank - 1; d >= 0 && ++oc[d] == outShape[d]; d--) oc[d] = 0;
        }
        return map;
    }

    /// <summary>Emits y[i] = x[map[i]] (map entries validated against x's length).</summary>
    public static void EmitGather(LoweringContext ctx, Node n, string x, string y, int[] map)
    {
        if (map.Length == 0) return;
        int len = checked((int)Shapes.Product(ctx.Shape(n, x)));
        foreach (var m in map)
            if ((uint)m >= (uint)len) throw new InvalidOperationException($"{n.OpType} index map entry {m} outside [0, {len}).");
        ctx.Emit(n, "Maps.Gather", Read(x), Read(MapConstant(ctx, n, map)), Write(y));
    }

    /// <summary>Emits y[i] = x[map[i]], or the scalar <paramref name="fill"/> where map[i] = -1.</summary>
    public static void EmitGatherOrFill(LoweringContext ctx, Node n, string x, string y, int[] map, Tensor fill)
    {
        if (map.Length == 0) return;
        if (!map.Contains(-1)) { EmitGather(ctx, n, x, y, map); return; }
        int len = checked((int)Shapes.Product(ctx.Shape(n, x)));
        foreach (var m in map)
            if (m < -1 || m >= len) throw new InvalidOperationException($"{n.OpType} index map entry {m} outside [-1, {len}).");
        var type = ctx.TypeOf(x);
        if (type == DataType.Float)
        {
            ctx.Emit(n, "Maps.GatherOrFill", Read(x), Read(MapConstant(ctx, n, map)), Write(y), F((float)fill.ToDoubles()[0]));
            return;
        }
        // Other types: the fill is a one-element constant after x (Maps.Gather2).
        var two = map.Select(m => m < 0 ? len : m).ToArray();
        if (fill.DataType != type || fill.Length != 1) throw ctx.Unsupported(n, "with a fill of another type");
        string f = ctx.AddConstant(n.DisplayName + "_fill", fill.Reshape([1]));
        ctx.Emit(n, "Maps.Gather2", Read(x), Read(f), Read(MapConstant(ctx, n, two)), Write(y));
    }

    /// <summary>Emits y[i] = a[map[i]] (map[i] &lt; len(a)) or b[map[i] - len(a)].</summary>
    public static void EmitGather2(LoweringContext ctx, Node n, string a, string b, string y, int[] map)
    {
        if (map.Length == 0) return;
        long len = Shapes.Product(ctx.Shape(n, a)) + Shapes.Product(ctx.Shape(n, b));
        foreach (var m in map)
            if (m < 0 || m >= len) throw new InvalidOperationException($"{n.OpType} index map entry {m} outside [0, {len}).");
        ctx.Emit(n, "Maps.Gather2", Read(a), Read(b), Read(MapConstant(ctx, n, map)), Write(y));
    }

    public static string MapConstant(LoweringContext ctx, Node n, int[] map) =>
        ctx.AddConstant(n.DisplayName + "_map", Tensor.FromArray(map, map.Length));

    /// <summary>A constant input as int64 values, or Unsupported.</summary>
    public static long[] ConstInts(LoweringContext ctx, Node n, int slot, string what) =>
        (ctx.Constant(n.Inputs[slot]) ?? throw ctx.Unsupported(n, $"with {what} computed at run time")).ToInt64s();

    /// <summary>Row-major coordinates of flat index e in shape.</summary>
    public static void Coords(long e, int[] shape, int[] c)
    {
        for (int d = shape.Length - 1; d >= 0; d--) { int s = shape[d]; c[d] = s == 0 ? 0 : (int)(e % s); e = s == 0 ? e : e / s; }
    }
}

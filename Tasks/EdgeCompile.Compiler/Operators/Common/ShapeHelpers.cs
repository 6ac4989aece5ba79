using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>
/// Shared logic of the data-movement operators (Reshape, Slice, Pad, Gather ...): reading integer
/// inputs/attributes that moved between opsets, index maps over <see cref="Tensor.Take"/>, symbolic
/// dim arithmetic for shape inference, and the scatter reductions.
/// </summary>
public static class ShapeHelpers
{
    // ---------------------------------------------------------------- integer parameters

    /// <summary>The values of an integer tensor (int32/int64) as longs; a coded error for other types.</summary>
    public static long[] Ints(NodeContext ctx, Tensor t, string what)
    {
        if (t.DataType is not (DataType.Int64 or DataType.Int32))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Input '{what}' must be int32 or int64, got {t.DataType.OnnxName()}.");
        if (t.Rank > 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Input '{what}' must be a 1-D tensor, got shape {Shapes.Format(t.Shape)}.");
        return t.ToInt64s();
    }

    /// <summary>
    /// An integer list that is an attribute before <paramref name="inputSinceOpset"/> and input
    /// <paramref name="input"/> from then on. Null when absent. At inference time, <paramref name="known"/>
    /// is false when the input is given but not constant.
    /// </summary>
    public static long[]? AttrOrInput(NodeContext ctx, string name, int input, long inputSinceOpset, out bool known)
    {
        known = true;
        if (ctx.Opset < inputSinceOpset)
            return ctx.GetInts(name);
        if (ctx.HasAttribute(name))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"From opset {inputSinceOpset}, '{name}' is an input, not an attribute.");
        if (!ctx.HasInput(input)) return null;
        Tensor? t = ctx switch
        {
            ExecutionContext e => e.RequireInput(input),
            InferenceContext i => i.ConstantInput(input),
            _ => null,
        };
        if (t is null) { known = false; return null; }
        return Ints(ctx, t, name);
    }

    /// <summary>Normalizes an axis in [-rank, rank) (coded error otherwise).</summary>
    public static int Axis(NodeContext ctx, long axis, int rank, string what = "axis") =>
        ShapeRules.Axis(ctx, axis, rank, what);

    /// <summary>Normalizes a list of axes, rejecting duplicates.</summary>
    public static int[] Axes(NodeContext ctx, long[] axes, int rank, string what = "axes")
    {
        var r = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            r[i] = Axis(ctx, axes[i], rank, what);
            for (int j = 0; j < i; j++)
                if (r[j] == r[i]) throw ctx.Error(EdgeCodes.InvalidAttribute, $"{what} lists axis {axes[i]} twice.");
        }
        return r;
    }

    /// <summary>Converts a non-negative size to int with a coded error if it does not fit.</summary>
    public static int ToInt(NodeContext ctx, long v, string what)
    {
        if (v < 0 || v > int.MaxValue)
            throw ctx.Error(EdgeCodes.InvalidValue, $"{what} {v} is out of range.");
        return (int)v;
    }

    // ---------------------------------------------------------------- symbolic dims

    public static Dim[] KnownDims(int[] shape) => shape.Select(d => Dim.Known(d)).ToArray();

    public static Dim[] UnknownDims(int rank) => Enumerable.Repeat(Dim.Unknown, rank).ToArray();

    /// <summary>The concrete shape if every dim is known, else null.</summary>
    public static int[]? Static(Dim[]? shape) =>
        shape is not null && shape.All(d => d.IsKnown) ? shape.Select(d => checked((int)d.Value)).ToArray() : null;

    /// <summary>The length of a 1-D input (e.g. a shape tensor) if statically known, else null.</summary>
    public static long? Length1D(InferenceContext ctx, int input)
    {
        var s = ctx.InputShape(input);
        return s is { Length: 1 } && s[0].IsKnown ? s[0].Value : null;
    }

    public static Dim Mul(Dim a, long k) => a.IsKnown ? Dim.Known(a.Value * k) : k == 0 ? Dim.Known(0) : Dim.Unknown;

    public static Dim Div(Dim a, long k) => a.IsKnown ? Dim.Known(a.Value / k) : Dim.Unknown;

    public static Dim Sum(IEnumerable<Dim> dims)
    {
        long s = 0;
        foreach (var d in dims) { if (!d.IsKnown) return Dim.Unknown; s += d.Value; }
        return Dim.Known(s);
    }

    /// <summary>Two dims that must be equal: the known one wins; two different known sizes are a coded error.</summary>
    public static Dim Merge(NodeContext ctx, Dim a, Dim b, string what)
    {
        if (a.IsKnown && b.IsKnown && a.Value != b.Value)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{what}: dimension sizes {a.Value} and {b.Value} differ.");
        if (a.IsKnown) return a;
        if (b.IsKnown) return b;
        return a.Param is not null ? a : b;
    }

    // ---------------------------------------------------------------- index maps

    /// <summary>
    /// For each element of <paramref name="outShape"/> (row-major), calls <paramref name="source"/> with its
    /// coordinates (the array is reused: read it, do not keep it) and collects the returned flat source index.
    /// </summary>
    public static int[] IndexMap(int[] outShape, Func<int[], int> source)
    {
        int n = checked((int)Shapes.Product(outShape));
        var idx = new int[n];
        var coord = new int[outShape.Length];
        for (int e = 0; e < n; e++)
        {
            idx[e] = source(coord);
            for (int ax = outShape.Length - 1; ax >= 0; ax--)
            {
                if (++coord[ax] < outShape[ax]) break;
                coord[ax] = 0;
            }
        }
        return idx;
    }

    /// <summary>
    /// Separable index maps: output coordinate o on axis a reads input coordinate maps[a][o], or the fill
    /// value when that is -1 (then <paramref name="fill"/> must be given). Slice, Tile, Expand and Pad are this.
    /// </summary>
    public static Tensor TakeAxisMaps(Tensor x, int[] outShape, int[][] maps, Tensor? fill = null)
    {
        var strides = Shapes.Strides(x.Shape);
        int fillIndex = x.Length;
        var idx = IndexMap(outShape, c =>
        {
            int src = 0;
            for (int a = 0; a < c.Length; a++)
            {
                int s = maps[a][c[a]];
                if (s < 0) return fillIndex;
                src += s * strides[a];
            }
            return src;
        });
        var source = fill is null ? x : Concat1D(x, fill); // the fill value sits at index x.Length
        return source.Take(outShape, idx);
    }

    /// <summary>Coordinates of flat index <paramref name="flat"/> in <paramref name="shape"/>.</summary>
    public static int[] Unravel(int flat, int[] shape)
    {
        var c = new int[shape.Length];
        for (int a = shape.Length - 1; a >= 0; a--)
        {
            if (shape[a] == 0) return c;
            c[a] = flat % shape[a];
            flat /= shape[a];
        }
        return c;
    }

    /// <summary>Normalizes a (possibly negative) index into [0, size) with a coded error otherwise.</summary>
    public static int Index(NodeContext ctx, long i, int size, string what)
    {
        long r = i < 0 ? i + size : i;
        if (r < 0 || r >= size)
            throw ctx.Error(EdgeCodes.InvalidValue, $"{what} {i} is out of range for a dimension of size {size}.");
        return (int)r;
    }

    // ---------------------------------------------------------------- scatter

    /// <summary>Reads the 'reduction' attribute of ScatterElements/ScatterND (opset 16: none/add/mul, 18: max/min).</summary>
    public static string Reduction(NodeContext ctx)
    {
        var r = ctx.GetString("reduction", "none");
        bool ok = r switch
        {
            "none" => true,
            "add" or "mul" => ctx.Opset >= 16,
            "max" or "min" => ctx.Opset >= 18,
            _ => false,
        };
        if (!ok)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"reduction '{r}' is not supported at opset {ctx.Opset} (none; add, mul from 16; max, min from 18).");
        return r;
    }

    /// <summary>
    /// A copy of <paramref name="data"/> where, for each pair in order, element dst[k] is combined with
    /// updates element src[k] ("none" replaces, so the last write wins). Floats round to the element type
    /// after every step, as a runtime computing in that type would.
    /// </summary>
    public static Tensor Scatter(Tensor data, Tensor updates, IReadOnlyList<(int Dst, int Src)> pairs, string reduction)
    {
        if (reduction == "none")
        {
            // Pure data movement: element i of the result is data[i] or the updates element last written there.
            var idx = new int[data.Length];
            for (int i = 0; i < idx.Length; i++) idx[i] = i;
            foreach (var (d, s) in pairs) idx[d] = data.Length + s;
            return Concat1D(data, updates).Take(data.Shape, idx);
        }
        var type = data.DataType;
        if (type.IsFloat())
        {
            var v = data.ToDoubles();
            var u = updates.ToDoubles();
            Func<double, double> round = type switch
            {
                DataType.Float => x => (float)x,
                DataType.Float16 => x => (double)(Half)x,
                DataType.BFloat16 => x => (float)(BFloat16)(float)x,
                _ => x => x,
            };
            foreach (var (d, s) in pairs)
                v[d] = round(reduction switch
                {
                    "add" => v[d] + u[s],
                    "mul" => v[d] * u[s],
                    "max" => Math.Max(v[d], u[s]),
                    _ => Math.Min(v[d], u[s]),
                });
            return Tensor.FromDoubles(type, data.Shape, v);
        }
        if (type == DataType.UInt64)
        {
            var v = data.ToUInt64s();
            var u = updates.ToUInt64s();
            foreach (var (d, s) in pairs)
                v[d] = reduction switch
                {
                    "add" => unchecked(v[d] + u[s]),
                    "mul" => unchecked(v[d] * u[s]),
                    "max" => Math.Max(v[d], u[s]),
                    _ => Math.Min(v[d], u[s]),
                };
            return Tensor.FromUInt64s(type, data.Shape, v);
        }
        {
            // Signed and narrower unsigned integers are exact in long; wrap once at the end (add/mul are
            // modular, max/min never leave the type's range). Bool: add is "or", mul is "and" (as numpy).
            var v = data.ToInt64s();
            var u = updates.ToInt64s();
            foreach (var (d, s) in pairs)
                v[d] = reduction switch
                {
                    "add" => unchecked(v[d] + u[s]),
                    "mul" => unchecked(v[d] * u[s]),
                    "max" => Math.Max(v[d], u[s]),
                    _ => Math.Min(v[d], u[s]),
                };
            return Tensor.FromInt64s(type, data.Shape, v);
        }
    }

    /// <summary>The elements of a then b as one 1-D tensor (same data type).</summary>
    public static Tensor Concat1D(Tensor a, Tensor b)
    {
        var data = Array.CreateInstance(a.DataType.ClrType(), a.Length + b.Length);
        Array.Copy(a.Data, data, a.Length);
        Array.Copy(b.Data, 0, data, a.Length, b.Length);
        return new Tensor(a.DataType, [a.Length + b.Length], data);
    }

    /// <summary>Checks that two tensors have the same element type (coded error otherwise).</summary>
    public static void SameType(NodeContext ctx, Tensor a, Tensor b, string what)
    {
        if (a.DataType != b.DataType)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{what} must have the same type as the data ({a.DataType.OnnxName()}), got {b.DataType.OnnxName()}.");
    }
}

using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>The reduction computed by a Reduce* operator over each group of input elements.</summary>
public enum ReduceKind { Sum, SumSquare, L1, L2, LogSum, LogSumExp, Mean, Max, Min, Prod }

/// <summary>The per-axis "soft" selections: Softmax, LogSoftmax and Hardmax.</summary>
public enum SoftmaxKind { Softmax, LogSoftmax, Hardmax }

/// <summary>
/// Shared logic of the reduction group: the Reduce* family (axes attribute or input, keepdims,
/// noop_with_empty_axes, identity elements for empty reductions), ArgMax/ArgMin, the Softmax family and
/// the normalization operators (per-lane mean/variance, parameter broadcasting). Floats compute in
/// double and round once to the output type; integers compute in long (two's-complement wrap) or, where
/// unsigned order matters, ulong.
/// </summary>
public static class ReduceHelpers
{
    public static readonly string[] ReduceAttributes = ["axes", "keepdims", "noop_with_empty_axes"];

    /// <summary>The opset from which 'axes' is an input instead of an attribute (ReduceSum-13, the others 18).</summary>
    public static int AxesInputOpset(ReduceKind kind) => kind == ReduceKind.Sum ? 13 : 18;

    // ---------------------------------------------------------------- Reduce*: axes

    /// <summary>Checks that the node uses the axes form of its opset (attribute before, input after).</summary>
    private static bool AxesAreInput(NodeContext ctx, ReduceKind kind)
    {
        bool fromInput = ctx.Opset >= AxesInputOpset(kind);
        if (fromInput && ctx.HasAttribute("axes"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"{ctx.Node.OpType} takes 'axes' as its second input from opset {AxesInputOpset(kind)}; this model (opset {ctx.Opset}) gives it as an attribute. Move the axes to an int64 input.");
        if (!fromInput && ctx.HasInput(1))
            throw ctx.Error(EdgeCodes.InvalidArity, $"{ctx.Node.OpType} takes 'axes' as an attribute before opset {AxesInputOpset(kind)}; this model (opset {ctx.Opset}) gives a second input. Use the attribute, or import opset {AxesInputOpset(kind)} or newer.");
        if (!fromInput && ctx.HasAttribute("noop_with_empty_axes"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"'noop_with_empty_axes' exists for {ctx.Node.OpType} only from opset {AxesInputOpset(kind)}; this model imports opset {ctx.Opset}.");
        return fromInput;
    }

    private static bool NoopWithEmptyAxes(NodeContext ctx) => ctx.GetInt("noop_with_empty_axes", 0) != 0;
    private static bool KeepDims(NodeContext ctx) => ctx.GetInt("keepdims", 1) != 0;

    /// <summary>
    /// Which axes are reduced. Empty axes mean "all axes", unless noop_with_empty_axes is set: then no axis
    /// is reduced and every output element is the reduction of the single input element at its place (the
    /// ONNX reference evaluates e.g. ReduceSumSquare as x*x, ReduceLogSum as log(x) there).
    /// </summary>
    private static bool[] ReducedMask(NodeContext ctx, long[] axes, int rank, bool noop, string code)
    {
        var mask = new bool[rank];
        if (axes.Length == 0)
        {
            if (!noop) Array.Fill(mask, true);
            return mask;
        }
        foreach (var a in axes)
        {
            long n = a < 0 ? a + rank : a;
            if (n < 0 || n >= rank)
                throw ctx.Error(code, $"Axis {a} is out of range for an input of rank {rank}; axes must lie in [{-rank}, {rank - 1}].");
            if (mask[n]) throw ctx.Error(code, $"Axis {a} appears more than once in 'axes'; list each axis once.");
            mask[n] = true;
        }
        return mask;
    }

    private static void CheckReduceType(NodeContext ctx, ReduceKind kind, DataType t)
    {
        // Bool is allowed for ReduceMax/ReduceMin from opset 20 (False < True).
        bool ok = t.IsFloat() || t.IsInteger() || (t == DataType.Bool && kind is ReduceKind.Max or ReduceKind.Min && ctx.Opset >= 20);
        if (!ok) throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} does not accept {t.OnnxName()} inputs at opset {ctx.Opset}.");
    }

    // ---------------------------------------------------------------- Reduce*: inference

    public static void InferReduce(InferenceContext ctx, ReduceKind kind)
    {
        var elem = ctx.InputElemType(0);
        CheckReduceType(ctx, kind, elem);
        bool fromInput = AxesAreInput(ctx, kind);
        bool keep = KeepDims(ctx);
        bool noop = NoopWithEmptyAxes(ctx);
        var shape = ctx.InputShape(0);
        if (shape is null) { ctx.SetOutput(0, elem, (Dim[]?)null); return; }

        long[]? axes;
        if (!fromInput) axes = ctx.GetInts("axes") ?? [];
        else if (!ctx.HasInput(1)) axes = [];
        else if (ctx.ConstantInput(1) is { } c) axes = c.ToInt64s();
        else if (ctx.InputShape(1) is [{ IsKnown: true, Value: 0 }]) axes = [];
        else axes = null;

        if (axes is not null)
        {
            var mask = ReducedMask(ctx, axes, shape.Length, noop, fromInput ? EdgeCodes.InvalidValue : EdgeCodes.InvalidAttribute);
            var dims = new List<Dim>();
            for (int i = 0; i < shape.Length; i++)
            {
                if (!mask[i]) dims.Add(shape[i]);
                else if (keep) dims.Add(Dim.Known(1));
            }
            ctx.SetOutput(0, elem, dims.ToArray());
            return;
        }

        // Axes known only at run time.
        if (keep)
        {
            // Same rank; a dim of 1 stays 1, any other may or may not be reduced.
            ctx.SetOutput(0, elem, shape.Select(d => d.IsKnown && d.Value == 1 ? d : Dim.Unknown).ToArray());
            return;
        }
        if (ctx.InputShape(1) is [{ IsKnown: true } k] && k.Value <= shape.Length)
        {
            // k distinct axes (k > 0 here) are dropped.
            ctx.SetOutput(0, elem, Enumerable.Repeat(Dim.Unknown, shape.Length - (int)k.Value).ToArray());
            return;
        }
        ctx.SetOutput(0, elem, (Dim[]?)null);
    }

    // ---------------------------------------------------------------- Reduce*: execution

    public static void ExecuteReduce(ExecutionContext ctx, ReduceKind kind)
    {
        var x = ctx.RequireInput(0);
        CheckReduceType(ctx, kind, x.DataType);
        bool fromInput = AxesAreInput(ctx, kind);
        long[] axes = fromInput ? ctx.Input(1)?.ToInt64s() ?? [] : ctx.GetInts("axes") ?? [];
        var mask = ReducedMask(ctx, axes, x.Rank, NoopWithEmptyAxes(ctx), fromInput ? EdgeCodes.InvalidValue : EdgeCodes.InvalidAttribute);

        var keptShape = x.Shape.Select((d, i) => mask[i] ? 1 : d).ToArray();
        var outShape = KeepDims(ctx) ? keptShape : x.Shape.Where((_, i) => !mask[i]).ToArray();
        var groupOf = GroupIndex(x.Shape, mask, keptShape);
        int outCount = checked((int)Shapes.Product(keptShape));

        Tensor result;
        var t = x.DataType;
        if (t.IsFloat() || kind is ReduceKind.L2 or ReduceKind.LogSum or ReduceKind.LogSumExp)
        {
            // Integer L2/LogSum/LogSumExp: computed in double, then truncated like a cast (as the reference does).
            var groups = Gather(x.ToDoubles(), groupOf, outCount);
            var r = new double[outCount];
            for (int o = 0; o < outCount; o++) r[o] = ReduceDoubles(kind, groups[o]);
            result = Tensor.FromDoubles(t, outShape, r);
        }
        else if (t == DataType.UInt64 && kind is ReduceKind.Max or ReduceKind.Min or ReduceKind.Mean)
        {
            var groups = Gather(x.ToUInt64s(), groupOf, outCount);
            var r = new ulong[outCount];
            for (int o = 0; o < outCount; o++) r[o] = ReduceUInt64s(kind, groups[o]);
            result = Tensor.FromUInt64s(t, outShape, r);
        }
        else
        {
            var groups = Gather(x.ToInt64s(), groupOf, outCount);
            var r = new long[outCount];
            for (int o = 0; o < outCount; o++) r[o] = ReduceInt64s(kind, groups[o], t);
            result = Tensor.FromInt64s(t, outShape, r);
        }
        ctx.SetOutput(0, result);
    }

    /// <summary>For each input element, the flat index (in <paramref name="keptShape"/>) of the output element it reduces into.</summary>
    private static int[] GroupIndex(int[] shape, bool[] mask, int[] keptShape)
    {
        int n = checked((int)Shapes.Product(shape));
        var inStrides = Shapes.Strides(shape);
        var outStrides = Shapes.Strides(keptShape);
        var group = new int[n];
        for (int e = 0; e < n; e++)
        {
            int g = 0;
            for (int ax = 0; ax < shape.Length; ax++)
                if (!mask[ax]) g += e / inStrides[ax] % shape[ax] * outStrides[ax];
            group[e] = g;
        }
        return group;
    }

    /// <summary>The input values of each group, in input order.</summary>
    private static T[][] Gather<T>(T[] values, int[] groupOf, int groupCount)
    {
        var count = new int[groupCount];
        foreach (var g in groupOf) count[g]++;
        var groups = new T[groupCount][];
        for (int g = 0; g < groupCount; g++) groups[g] = new T[count[g]];
        var fill = new int[groupCount];
        for (int e = 0; e < values.Length; e++) groups[groupOf[e]][fill[groupOf[e]]++] = values[e];
        return groups;
    }

    /// <summary>One reduction in double; an empty group gives the identity (0, 1, -inf, +inf; log of 0 = -inf; mean NaN).</summary>
    private static double ReduceDoubles(ReduceKind kind, double[] v)
    {
        switch (kind)
        {
            case ReduceKind.Sum: return v.Sum();
            case ReduceKind.SumSquare: return v.Sum(a => a * a);
            case ReduceKind.L1: return v.Sum(Math.Abs);
            case ReduceKind.L2: return Math.Sqrt(v.Sum(a => a * a));
            case ReduceKind.LogSum: return Math.Log(v.Sum());
            case ReduceKind.Mean: return v.Sum() / v.Length;
            case ReduceKind.Prod: return v.Aggregate(1.0, (p, a) => p * a);
            case ReduceKind.Max:
            case ReduceKind.Min:
            {
                double m = kind == ReduceKind.Max ? double.NegativeInfinity : double.PositiveInfinity;
                foreach (var a in v)
                {
                    if (double.IsNaN(a)) return double.NaN; // NaN propagates (numpy max/min)
                    m = kind == ReduceKind.Max ? Math.Max(m, a) : Math.Min(m, a);
                }
                return m;
            }
            case ReduceKind.LogSumExp:
            {
                // log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m = max(x), so large inputs do not overflow.
                double m = ReduceDoubles(ReduceKind.Max, v);
                if (double.IsNaN(m) || double.IsInfinity(m)) return m; // empty → -inf; any +inf → +inf
                return m + Math.Log(v.Sum(a => Math.Exp(a - m)));
            }
            default: throw new InvalidOperationException($"unreachable: {kind}");
        }
    }

    private static long ReduceInt64s(ReduceKind kind, long[] v, DataType t)
    {
        bool signed = t.IsSignedInteger();
        long acc;
        switch (kind)
        {
            case ReduceKind.Sum: acc = 0; foreach (var a in v) acc = unchecked(acc + a); return acc;
            case ReduceKind.SumSquare: acc = 0; foreach (var a in v) acc = unchecked(acc + a * a); return acc;
            case ReduceKind.L1: acc = 0; foreach (var a in v) acc = unchecked(acc + (signed && a < 0 ? -a : a)); return acc;
            case ReduceKind.Prod: acc = 1; foreach (var a in v) acc = unchecked(acc * a); return acc;
            case ReduceKind.Mean:
                // Integer mean: the exact mean truncated toward zero, as a cast of the real mean would; empty → 0.
                if (v.Length == 0) return 0;
                Int128 sum = 0; // wide enough that the sum of any int64 values cannot overflow
                foreach (var a in v) sum += a;
                return (long)(sum / v.Length);
            case ReduceKind.Max: acc = MinValue(t); foreach (var a in v) acc = Math.Max(acc, a); return acc;
            case ReduceKind.Min: acc = MaxValue(t); foreach (var a in v) acc = Math.Min(acc, a); return acc;
            default: throw new InvalidOperationException($"unreachable: {kind}");
        }
    }

    private static ulong ReduceUInt64s(ReduceKind kind, ulong[] v)
    {
        switch (kind)
        {
            case ReduceKind.Max: return v.Length == 0 ? ulong.MinValue : v.Max();
            case ReduceKind.Min: return v.Length == 0 ? ulong.MaxValue : v.Min();
            case ReduceKind.Mean:
            {
                if (v.Length == 0) return 0;
                UInt128 s = 0;
                foreach (var a in v) s += a;
                return (ulong)(s / (ulong)v.Length);
            }
            default: throw new InvalidOperationException($"unreachable: {kind}");
        }
    }

    /// <summary>The smallest value of an integer type (bool: false), the identity of an empty ReduceMax.</summary>
    private static long MinValue(DataType t) => t switch
    {
        DataType.Int8 => sbyte.MinValue,
        DataType.Int16 => short.MinValue,
        DataType.Int32 => int.MinValue,
        DataType.Int64 => long.MinValue,
        _ => 0, // unsigned types and bool
    };

    /// <summary>The largest value of an integer type (bool: true), the identity of an empty ReduceMin.</summary>
    private static long MaxValue(DataType t) => t switch
    {
        DataType.Int8 => sbyte.MaxValue,
        DataType.Int16 => short.MaxValue,
        DataType.Int32 => int.MaxValue,
        DataType.Int64 => long.MaxValue,
        DataType.UInt8 => byte.MaxValue,
        DataType.UInt16 => ushort.MaxValue,
        DataType.UInt32 => uint.MaxValue,
        DataType.Bool => 1,
        _ => throw new InvalidOperationException($"unreachable: {t}"),
    };

    // ---------------------------------------------------------------- ArgMax / ArgMin

    public static readonly string[] ArgAttributes = ["axis", "keepdims", "select_last_index"];

    public static void InferArg(InferenceContext ctx)
    {
        var elem = ctx.InputElemType(0);
        CheckArgType(ctx, elem);
        var shape = ctx.InputShape(0);
        if (shape is null) { ctx.SetOutput(0, DataType.Int64, (Dim[]?)null); return; }
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", 0), shape.Length);
        var dims = new List<Dim>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (i != axis) dims.Add(shape[i]);
            else if (KeepDims(ctx)) dims.Add(Dim.Known(1));
        }
        ctx.SetOutput(0, DataType.Int64, dims.ToArray());
    }

    private static void CheckArgType(NodeContext ctx, DataType t)
    {
        if (!t.IsFloat() && !t.IsInteger())
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs a numeric input, got {t.OnnxName()}.");
    }

    /// <summary>
    /// Index of the largest (<paramref name="max"/>) or smallest element along 'axis'; ties give the first
    /// index, or the last with select_last_index=1. A NaN counts as the extreme (as numpy's argmax/argmin).
    /// </summary>
    public static void ExecuteArg(ExecutionContext ctx, bool max)
    {
        var x = ctx.RequireInput(0);
        CheckArgType(ctx, x.DataType);
        int axis = ShapeRules.Axis(ctx, ctx.GetInt("axis", 0), x.Rank);
        bool last = ctx.GetInt("select_last_index", 0) != 0;
        var lanes = new Lanes(x.Shape, axis, coerceTo2D: false);
        if (lanes.Length == 0 && lanes.Count > 0)
            throw ctx.Error(EdgeCodes.InvalidValue, $"{ctx.Node.OpType} over axis {axis} of size 0 has no answer; the axis must not be empty.");

        // compare(i, j) > 0 when element i is strictly better than element j.
        Func<int, int, int> compare;
        Func<int, bool> isNaN = _ => false;
        if (x.DataType.IsFloat())
        {
            var d = x.ToDoubles();
            compare = (i, j) => d[i].CompareTo(d[j]);
            isNaN = i => double.IsNaN(d[i]);
        }
        else if (x.DataType == DataType.UInt64)
        {
            var u = x.ToUInt64s();
            compare = (i, j) => u[i].CompareTo(u[j]);
        }
        else
        {
            var l = x.ToInt64s();
            compare = (i, j) => l[i].CompareTo(l[j]);
        }
        int sign = max ? 1 : -1;

        var r = new long[lanes.Count];
        for (int g = 0; g < lanes.Count; g++)
            r[g] = BestIndex(lanes, g, (i, j) => sign * compare(i, j), isNaN, last);

        var shape = x.Shape.Select((d, i) => i == axis ? 1 : d).ToArray();
        if (!KeepDims(ctx)) shape = x.Shape.Where((_, i) => i != axis).ToArray();
        ctx.SetOutput(0, new Tensor(DataType.Int64, shape, r));
    }

    /// <summary>Position (0-based along the lane) of the best element of lane <paramref name="g"/>.</summary>
    private static int BestIndex(Lanes lanes, int g, Func<int, int, int> better, Func<int, bool> isNaN, bool last)
    {
        int best = 0;
        for (int k = 0; k < lanes.Length; k++)
        {
            int e = lanes.Index(g, k);
            if (isNaN(e)) { best = k; if (!last) return k; continue; }
            if (k == 0) continue;
            int b = lanes.Index(g, best);
            if (isNaN(b)) continue;
            int c = better(e, b);
            if (c > 0 || (c == 0 && last)) best = k;
        }
        return best;
    }

    // ---------------------------------------------------------------- lanes along an axis

    /// <summary>
    /// The 1-D lanes of a tensor along one axis: lane g, position k is flat element Index(g, k). With
    /// <c>coerceTo2D</c> the input is viewed as a matrix [prod(d0..d(axis-1)), prod(d(axis)..)] and each
    /// row is a lane (the Softmax family before opset 13).
    /// </summary>
    public readonly struct Lanes
    {
        private readonly int _stride;
        public int Count { get; }
        public int Length { get; }

        public Lanes(int[] shape, int axis, bool coerceTo2D)
        {
            int outer = (int)Shapes.Product(shape.AsSpan(0, axis));
            if (coerceTo2D)
            {
                Length = (int)Shapes.Product(shape.AsSpan(axis));
                _stride = 1;
                Count = outer;
            }
            else
            {
                Length = shape.Length == 0 ? 1 : shape[axis];
                _stride = shape.Length == 0 ? 1 : (int)Shapes.Product(shape.AsSpan(axis + 1));
                Count = outer * _stride;
            }
        }

        public int Index(int g, int k) => g / _stride * (_stride * Length) + g % _stride + k * _stride;
    }

    // ---------------------------------------------------------------- Softmax family

    public static void RequireFloat(NodeContext ctx, DataType t)
    {
        if (!t.IsFloat())
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs a floating-point input, got {t.OnnxName()}.");
    }

    /// <summary>Axis of the Softmax family: default 1 and 2-D coercion before opset 13, default -1 and per-axis from 13.</summary>
    private static (int Axis, bool Coerce) SoftmaxAxis(NodeContext ctx, int rank)
    {
        bool coerce = ctx.Opset < 13;
        long axis = ctx.GetInt("axis", coerce ? 1 : -1);
        return (ShapeRules.Axis(ctx, axis, rank), coerce);
    }

    public static void InferSoftmax(InferenceContext ctx)
    {
        RequireFloat(ctx, ctx.InputElemType(0));
        if (ctx.InputShape(0) is { } s) SoftmaxAxis(ctx, s.Length);
        ShapeRules.SameAsInput(ctx);
    }

    public static void ExecuteSoftmax(ExecutionContext ctx, SoftmaxKind kind)
    {
        var x = ctx.RequireInput(0);
        RequireFloat(ctx, x.DataType);
        var (axis, coerce) = SoftmaxAxis(ctx, x.Rank);
        var lanes = new Lanes(x.Shape, axis, coerce);
        var v = x.ToDoubles();
        var y = new double[v.Length];
        for (int g = 0; g < lanes.Count; g++)
        {
            if (kind == SoftmaxKind.Hardmax)
            {
                // 1 at the first maximum of the lane, 0 elsewhere.
                int best = BestIndex(lanes, g, (i, j) => v[i].CompareTo(v[j]), i => double.IsNaN(v[i]), last: false);
                if (lanes.Length > 0) y[lanes.Index(g, best)] = 1;
                continue;
            }
            double m = double.NegativeInfinity;
            for (int k = 0; k < lanes.Length; k++) m = Math.Max(m, v[lanes.Index(g, k)]);
            double sum = 0;
            for (int k = 0; k < lanes.Length; k++) sum += Math.Exp(v[lanes.Index(g, k)] - m);
            for (int k = 0; k < lanes.Length; k++)
            {
                int e = lanes.Index(g, k);
                y[e] = kind == SoftmaxKind.Softmax ? Math.Exp(v[e] - m) / sum : v[e] - m - Math.Log(sum);
            }
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, y));
    }

    // ---------------------------------------------------------------- normalization helpers

    /// <summary>
    /// The values of parameter tensor <paramref name="p"/> broadcast (unidirectionally) to
    /// <paramref name="shape"/>, one per element of that shape; a coded error if it does not broadcast.
    /// </summary>
    public static double[] BroadcastTo(NodeContext ctx, Tensor p, int[] shape, string name)
    {
        bool ok = p.Rank <= shape.Length;
        for (int i = 0; ok && i < p.Rank; i++)
        {
            int d = p.Shape[p.Rank - 1 - i];
            ok = d == 1 || d == shape[shape.Length - 1 - i];
        }
        if (!ok)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{name} of shape {Shapes.Format(p.Shape)} does not broadcast to {Shapes.Format(shape)}.");
        var v = p.ToDoubles();
        var idx = Shapes.BroadcastIndex(p.Shape, shape);
        var r = new double[idx.Length];
        for (int i = 0; i < idx.Length; i++) r[i] = v[idx[i]];
        return r;
    }

    /// <summary>Symbolic check that a parameter shape broadcasts to the given shape (dims not known are accepted).</summary>
    public static void CheckBroadcastTo(InferenceContext ctx, Dim[]? p, Dim[] shape, string name)
    {
        if (p is null) return;
        bool ok = p.Length <= shape.Length;
        for (int i = 0; ok && i < p.Length; i++)
        {
            var d = p[p.Length - 1 - i];
            var s = shape[shape.Length - 1 - i];
            ok = !d.IsKnown || !s.IsKnown || d.Value == 1 || d.Value == s.Value;
        }
        if (!ok)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{name} of shape [{string.Join(",", p)}] does not broadcast to [{string.Join(",", shape)}].");
    }

    /// <summary>Checks a per-channel parameter: a 1-D tensor of <paramref name="channels"/> elements.</summary>
    public static double[] PerChannel(NodeContext ctx, Tensor p, int channels, string name)
    {
        if (p.Rank != 1 || p.Shape[0] != channels)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{name} must have shape [{channels}] (one value per channel), got {Shapes.Format(p.Shape)}.");
        return p.ToDoubles();
    }

    public static (double Mean, double Variance) MeanAndVariance(IReadOnlyList<double> v)
    {
        double mean = 0;
        foreach (var a in v) mean += a;
        mean /= v.Count;
        double var = 0;
        foreach (var a in v) var += (a - mean) * (a - mean);
        return (mean, var / v.Count);
    }

    /// <summary>
    /// The element type a stash_type attribute names (LayerNormalization, RMSNormalization; default float):
    /// the precision of the statistics. This executor computes them in double, which is at least as precise.
    /// </summary>
    public static DataType StashType(NodeContext ctx, params DataType[] allowed)
    {
        long s = ctx.GetInt("stash_type", (long)DataType.Float);
        var t = (DataType)s;
        if (!allowed.Contains(t))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"{ctx.Node.OpType} stash_type {s} is not supported; use one of {string.Join(", ", allowed.Select(a => $"{(int)a} ({a.OnnxName()})"))}.");
        return t;
    }
}

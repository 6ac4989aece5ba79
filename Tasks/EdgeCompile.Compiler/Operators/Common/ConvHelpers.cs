using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators.Common;

public enum AutoPad { NotSet, SameUpper, SameLower, Valid }

/// <summary>
/// The window attributes shared by Conv, ConvTranspose, ConvInteger, QLinearConv, AveragePool and MaxPool,
/// read and validated once for a known number of spatial axes.
/// </summary>
public sealed class WindowAttributes
{
    public required int SpatialRank { get; init; }
    /// <summary>The kernel_shape attribute, or null when absent (convolutions then take it from W).</summary>
    public required int[]? KernelShape { get; init; }
    public required int[] Strides { get; init; }
    public required int[] Dilations { get; init; }
    /// <summary>Explicit pads, [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; zeros when absent.</summary>
    public required int[] Pads { get; init; }
    public required AutoPad AutoPad { get; init; }
    public required bool CeilMode { get; init; }
}

/// <summary>One spatial axis: output length and the begin/end padding actually applied.</summary>
public readonly record struct AxisGeometry(int Output, int PadBegin, int PadEnd);

/// <summary>
/// Concrete geometry of a sliding-window op: for every window position in <see cref="OutputSpatial"/>
/// the taps it reads in <see cref="InputSpatial"/>. ConvTranspose reuses it as the adjoint of a convolution
/// (its output plays the "input" role, its input the "output" role). Holds scratch buffers: one instance per
/// execution, not thread-safe.
/// </summary>
public sealed class WindowGeometry
{
    /// <summary>Tap code: the tap lies in the (explicit or automatic) padding.</summary>
    public const int Padding = -1;
    /// <summary>Tap code: the tap lies beyond the end padding (only possible with ceil_mode).</summary>
    public const int Outside = -2;

    public int[] InputSpatial { get; }
    public int[] OutputSpatial { get; }
    public int[] Kernel { get; }
    public int[] Strides { get; }
    public int[] Dilations { get; }
    public int[] PadsBegin { get; }
    public int[] PadsEnd { get; }
    public int Rank => Kernel.Length;
    public int InputSize { get; }
    public int OutputSize { get; }
    public int Taps { get; }

    private readonly int[] _inStrides;
    private readonly int[][] _axisCoord; // per axis, per kernel index: coordinate or a tap code
    private readonly int[] _k;

    public WindowGeometry(int[] inputSpatial, int[] outputSpatial, int[] kernel, int[] strides, int[] dilations, int[] padsBegin, int[] padsEnd)
    {
        InputSpatial = inputSpatial; OutputSpatial = outputSpatial; Kernel = kernel;
        Strides = strides; Dilations = dilations; PadsBegin = padsBegin; PadsEnd = padsEnd;
        InputSize = checked((int)Shapes.Product(inputSpatial));
        OutputSize = checked((int)Shapes.Product(outputSpatial));
        Taps = checked((int)Shapes.Product(kernel));
        _inStrides = Shapes.Strides(inputSpatial);
        _axisCoord = kernel.Select(k => new int[k]).ToArray();
        _k = new int[kernel.Length];
    }

    /// <summary>
    /// Fills <paramref name="taps"/> (length <see cref="Taps"/>, kernel in row-major order, as W is laid out)
    /// for the window at output position <paramref name="pos"/>: the flat spatial input index of each tap,
    /// or <see cref="Padding"/> / <see cref="Outside"/>. Input coordinate = pos*stride - pad_begin + k*dilation.
    /// </summary>
    public void Window(ReadOnlySpan<int> pos, Span<int> taps)
    {
        for (int d = 0; d < Rank; d++)
        {
            int start = pos[d] * Strides[d] - PadsBegin[d];
            for (int k = 0; k < Kernel[d]; k++)
            {
                int c = start + k * Dilations[d];
                _axisCoord[d][k] = c >= 0 && c < InputSpatial[d] ? c
                    : c >= -PadsBegin[d] && c < InputSpatial[d] + PadsEnd[d] ? Padding : Outside;
            }
        }
        Array.Clear(_k);
        for (int t = 0; t < Taps; t++)
        {
            int flat = 0, code = 0;
            for (int d = 0; d < Rank; d++)
            {
                int c = _axisCoord[d][_k[d]];
                if (c < 0) code = Math.Min(code, c);
                else flat += c * _inStrides[d];
            }
            taps[t] = code < 0 ? code : flat;
            Advance(_k, Kernel);
        }
    }

    /// <summary>Row-major odometer step; returns false after the last position.</summary>
    public static bool Advance(int[] pos, int[] shape)
    {
        for (int d = pos.Length - 1; d >= 0; d--)
        {
            if (++pos[d] < shape[d]) return true;
            pos[d] = 0;
        }
        return false;
    }
}

/// <summary>
/// Geometry shared by shape inference and execution of the convolution and pooling operators, so the two
/// cannot disagree: attribute parsing, output sizes, auto_pad and ceil_mode padding.
/// </summary>
public static class ConvHelpers
{
    public static readonly string[] ConvAttributeNames = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"];

    public static AutoPad ReadAutoPad(NodeContext ctx)
    {
        var s = ctx.GetString("auto_pad", "NOTSET");
        return s switch
        {
            "NOTSET" or "" => AutoPad.NotSet,
            "SAME_UPPER" => AutoPad.SameUpper,
            "SAME_LOWER" => AutoPad.SameLower,
            "VALID" => AutoPad.Valid,
            _ => throw ctx.Error(EdgeCodes.InvalidAttribute, $"auto_pad '{s}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID."),
        };
    }

    /// <summary>Reads the window attributes for <paramref name="spatialRank"/> spatial axes with coded errors on bad values.</summary>
    public static WindowAttributes ReadAttributes(NodeContext ctx, int spatialRank)
    {
        int[]? kernel = null;
        if (ctx.GetInts("kernel_shape") is { } ks)
        {
            kernel = Ints(ctx, "kernel_shape", ks, spatialRank, min: 1);
        }
        var strides = ctx.GetInts("strides") is { } s ? Ints(ctx, "strides", s, spatialRank, min: 1) : Ones(spatialRank);
        var dilations = ctx.GetInts("dilations") is { } d ? Ints(ctx, "dilations", d, spatialRank, min: 1) : Ones(spatialRank);
        var autoPad = ReadAutoPad(ctx);
        // pads and a non-NOTSET auto_pad should not both be given; the automatic padding wins.
        var pads = ctx.GetInts("pads") is { } p && autoPad == AutoPad.NotSet ? Ints(ctx, "pads", p, 2 * spatialRank, min: 0) : new int[2 * spatialRank];
        long ceil = ctx.GetInt("ceil_mode", 0);
        if (ceil is not (0 or 1)) throw ctx.Error(EdgeCodes.InvalidAttribute, $"ceil_mode must be 0 or 1, got {ceil}.");
        return new WindowAttributes
        {
            SpatialRank = spatialRank, KernelShape = kernel, Strides = strides, Dilations = dilations,
            Pads = pads, AutoPad = autoPad, CeilMode = ceil == 1,
        };
    }

    /// <summary>The int64 list attribute as ints, checking its length and lower bound.</summary>
    public static int[] Ints(NodeContext ctx, string name, long[] values, int length, long min)
    {
        if (values.Length != length)
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute '{name}' has {values.Length} values; {length} expected for this input rank.");
        var r = new int[length];
        for (int i = 0; i < length; i++)
        {
            if (values[i] < min || values[i] > int.MaxValue)
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute '{name}' value {values[i]} at position {i} is out of range (must be at least {min}).");
            r[i] = (int)values[i];
        }
        return r;
    }

    public static int[] Ones(int n) => Enumerable.Repeat(1, n).ToArray();

    private static long EffectiveKernel(int kernel, int dilation) => (long)(kernel - 1) * dilation + 1;

    private static long CeilDiv(long a, long b) => a >= 0 ? (a + b - 1) / b : -((-a) / b);

    /// <summary>
    /// Output length and applied padding of one axis of a forward window op (Conv, ConvInteger, QLinearConv,
    /// AveragePool, MaxPool), as the ONNX shape inference computes it:
    /// SAME_*: out = ceil(in / stride), total pad = max(0, (out-1)*stride + eff_kernel - in), the odd unit at the
    /// end (SAME_UPPER) or the beginning (SAME_LOWER); VALID: no padding; otherwise the explicit pads.
    /// Then out = floor_or_ceil((in + pads - eff_kernel) / stride) + 1, and with ceil_mode a last window that
    /// would start in the end padding is dropped.
    /// </summary>
    public static AxisGeometry ForwardAxis(NodeContext ctx, int axis, long input, int kernel, int stride, int dilation,
        int padBegin, int padEnd, AutoPad autoPad, bool ceilMode)
    {
        long ek = EffectiveKernel(kernel, dilation);
        long output;
        if (autoPad is AutoPad.SameUpper or AutoPad.SameLower)
        {
            output = CeilDiv(input, stride);
            long total = Math.Max(0, (output - 1) * stride + ek - input);
            long small = total / 2;
            (padBegin, padEnd) = autoPad == AutoPad.SameUpper ? ((int)small, (int)(total - small)) : ((int)(total - small), (int)small);
        }
        else
        {
            if (autoPad == AutoPad.Valid) padBegin = padEnd = 0;
            long span = input + padBegin + padEnd - ek;
            if (span < 0)
                throw ctx.Error(EdgeCodes.ShapeMismatch,
                    $"Spatial axis {axis}: the kernel window ({ek} with dilation) is larger than the padded input ({input + padBegin + padEnd}).");
            output = (ceilMode ? CeilDiv(span, stride) : span / stride) + 1;
            // ceil_mode: sliding windows that would start in the right padded region are ignored.
            if (ceilMode && (output - 1) * stride >= input + padBegin) output--;
        }
        if (output <= 0 || output > int.MaxValue)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Spatial axis {axis}: output length {output} is not positive.");
        return new AxisGeometry((int)output, padBegin, padEnd);
    }

    /// <summary>
    /// Output length and padding of one axis of ConvTranspose. Without output_shape:
    /// out = stride*(in-1) + output_padding + eff_kernel - pad_begin - pad_end (pads zero for VALID; for SAME_* out = in*stride).
    /// With output_shape (or SAME_*) the pads are generated from total = stride*(in-1) + output_padding + eff_kernel - out:
    /// SAME_UPPER puts the odd unit at the end, otherwise at the beginning (spec). A negative total (an output longer
    /// than the full result) is taken as zero padding: the extra positions at the end get only the bias.
    /// </summary>
    public static AxisGeometry TransposeAxis(NodeContext ctx, int axis, long input, int kernel, int stride, int dilation,
        int padBegin, int padEnd, int outputPadding, long? outputShape, AutoPad autoPad)
    {
        long full = stride * (input - 1) + outputPadding + EffectiveKernel(kernel, dilation);
        long output;
        if (outputShape is not null || autoPad is AutoPad.SameUpper or AutoPad.SameLower)
        {
            output = outputShape ?? input * stride;
            long total = Math.Max(0, full - output);
            long small = total / 2;
            (padBegin, padEnd) = autoPad == AutoPad.SameUpper ? ((int)small, (int)(total - small)) : ((int)(total - small), (int)small);
        }
        else
        {
            if (autoPad == AutoPad.Valid) padBegin = padEnd = 0;
            output = full - padBegin - padEnd;
        }
        if (output <= 0 || output > int.MaxValue)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"Spatial axis {axis}: ConvTranspose output length {output} is not positive.");
        return new AxisGeometry((int)output, padBegin, padEnd);
    }

    /// <summary>Symbolic output spatial dims of a forward window op; a dim is unknown when its input or kernel is.</summary>
    public static Dim[] ForwardShape(NodeContext ctx, WindowAttributes a, Dim[]? inputSpatial, Dim[]? kernel)
    {
        var r = new Dim[a.SpatialRank];
        for (int i = 0; i < r.Length; i++)
        {
            var din = inputSpatial?[i] ?? Dim.Unknown;
            var dk = kernel?[i] ?? Dim.Unknown;
            r[i] = din.IsKnown && dk.IsKnown
                ? Dim.Known(ForwardAxis(ctx, i, din.Value, checked((int)dk.Value), a.Strides[i], a.Dilations[i], a.Pads[i], a.Pads[i + a.SpatialRank], a.AutoPad, a.CeilMode).Output)
                : Dim.Unknown;
        }
        return r;
    }

    /// <summary>Concrete geometry of a forward window op over <paramref name="inputSpatial"/>.</summary>
    public static WindowGeometry Forward(NodeContext ctx, WindowAttributes a, int[] inputSpatial, int[] kernel)
    {
        int n = a.SpatialRank;
        var output = new int[n]; var pb = new int[n]; var pe = new int[n];
        for (int i = 0; i < n; i++)
        {
            var g = ForwardAxis(ctx, i, inputSpatial[i], kernel[i], a.Strides[i], a.Dilations[i], a.Pads[i], a.Pads[i + n], a.AutoPad, a.CeilMode);
            (output[i], pb[i], pe[i]) = (g.Output, g.PadBegin, g.PadEnd);
        }
        return new WindowGeometry(inputSpatial, output, kernel, a.Strides, a.Dilations, pb, pe);
    }

    /// <summary>Spatial rank from the data input's rank, or from a fallback (kernel_shape, W) when unknown; null if unknowable.</summary>
    public static int? SpatialRank(NodeContext ctx, Dim[]? xShape, int? fallback, int minRank = 3)
    {
        if (xShape is not null)
        {
            if (xShape.Length < minRank)
                throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs an input of rank at least {minRank} (N x C x spatial...), got rank {xShape.Length}.");
            return xShape.Length - 2;
        }
        return fallback;
    }

    public static void RequireRank(NodeContext ctx, Tensor x, int minRank, string what = "X")
    {
        if (x.Rank < minRank)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs {what} of rank at least {minRank} (N x C x spatial...), got {x}.");
    }

    /// <summary>Rejects an attribute that the model's opset does not have yet (e.g. AveragePool dilations before 19).</summary>
    public static void RejectBefore(NodeContext ctx, string attribute, int sinceOpset)
    {
        if (ctx.Opset < sinceOpset && ctx.HasAttribute(attribute))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute '{attribute}' of {ctx.Node.OpType} exists from opset {sinceOpset}; the model imports opset {ctx.Opset}.");
    }

    // ---------------------------------------------------------------- convolution family

    /// <summary>
    /// Shape inference for Conv, ConvInteger and QLinearConv: Y = [N, M, out...] with M = W.shape[0];
    /// kernel from kernel_shape or W's spatial dims; checks C == W.shape[1] * group when known.
    /// </summary>
    public static void InferConv(InferenceContext ctx, int xIndex, int wIndex, DataType outType)
    {
        var xs = ctx.InputShape(xIndex);
        var ws = ctx.InputShape(wIndex);
        int? rank = SpatialRank(ctx, xs, ws is not null ? ws.Length - 2 : ctx.GetInts("kernel_shape")?.Length);
        if (rank is null) { ctx.SetOutput(0, outType, (Dim[]?)null); return; }
        int n = rank.Value;
        if (ws is not null && ws.Length != n + 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"W has rank {ws.Length}; {n + 2} expected for an input with {n} spatial axes.");
        var a = ReadAttributes(ctx, n);
        long group = ReadGroup(ctx);
        Dim[]? kernel = a.KernelShape?.Select(k => Dim.Known(k)).ToArray() ?? ws?[2..];
        if (a.KernelShape is not null && ws is not null)
            for (int i = 0; i < n; i++)
                if (ws[i + 2].IsKnown && ws[i + 2].Value != a.KernelShape[i])
                    throw ctx.Error(EdgeCodes.ShapeMismatch, $"kernel_shape [{string.Join(",", a.KernelShape)}] does not match W's spatial shape.");
        Dim m = ws?[0] ?? Dim.Unknown;
        if (m.IsKnown && m.Value % group != 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"W has {m.Value} output channels, not a multiple of group {group}.");
        if (xs is not null && ws is not null && xs[1].IsKnown && ws[1].IsKnown && xs[1].Value != ws[1].Value * group)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"X has {xs[1].Value} channels but W expects {ws[1].Value} x group {group} = {ws[1].Value * group}.");
        var shape = new Dim[n + 2];
        shape[0] = xs?[0] ?? Dim.Unknown;
        shape[1] = m;
        ForwardShape(ctx, a, xs?[2..], kernel).CopyTo(shape, 2);
        ctx.SetOutput(0, outType, shape);
    }

    public static long ReadGroup(NodeContext ctx)
    {
        long group = ctx.GetInt("group", 1);
        if (group < 1 || group > int.MaxValue) throw ctx.Error(EdgeCodes.InvalidAttribute, $"group must be a positive integer, got {group}.");
        return group;
    }

    /// <summary>Dimensions of a convolution checked at run time: X [N, C, ...], W [M, C/group, k...].</summary>
    public readonly record struct ConvDims(int N, int C, int M, int Group, WindowGeometry Geometry);

    public static ConvDims CheckConv(NodeContext ctx, Tensor x, Tensor w)
    {
        RequireRank(ctx, x, 3);
        int n = x.Rank - 2;
        if (w.Rank != x.Rank) throw ctx.Error(EdgeCodes.ShapeMismatch, $"W {w} must have the rank of X {x}.");
        var a = ReadAttributes(ctx, n);
        int group = (int)ReadGroup(ctx);
        var kernel = w.Shape[2..];
        if (a.KernelShape is not null && !a.KernelShape.SequenceEqual(kernel))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"kernel_shape [{string.Join(",", a.KernelShape)}] does not match W {w}.");
        int m = w.Shape[0], c = x.Shape[1];
        if (m % group != 0) throw ctx.Error(EdgeCodes.ShapeMismatch, $"W has {m} output channels, not a multiple of group {group}.");
        if ((long)w.Shape[1] * group != c)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"X {x} has {c} channels but W {w} expects {w.Shape[1]} x group {group}.");
        return new ConvDims(x.Shape[0], c, m, group, Forward(ctx, a, x.Shape[2..], kernel));
    }

    /// <summary>
    /// Direct convolution in double: y[n, m, p] = bias[m] + sum over the group's channels c and taps t of
    /// x[n, c, tap(p, t)] * w[m, c', t]; padding contributes zero. Returns y as [N, M, out...] row-major.
    /// </summary>
    public static double[] Convolve(ConvDims d, double[] x, double[] w, double[]? bias)
    {
        var g = d.Geometry;
        int inSize = g.InputSize, outSize = g.OutputSize, taps = g.Taps;
        int cg = d.C / d.Group, mg = d.M / d.Group;
        var y = new double[checked((long)d.N * d.M * outSize)];
        var window = new int[taps];
        var pos = new int[g.Rank];
        for (int p = 0; p < outSize; p++, WindowGeometry.Advance(pos, g.OutputSpatial))
        {
            g.Window(pos, window);
            for (int n = 0; n < d.N; n++)
                for (int m = 0; m < d.M; m++)
                {
                    double acc = bias?[m] ?? 0;
                    int c0 = m / mg * cg;
                    for (int ci = 0; ci < cg; ci++)
                    {
                        int xBase = (n * d.C + c0 + ci) * inSize;
                        int wBase = (m * cg + ci) * taps;
                        for (int t = 0; t < taps; t++)
                        {
                            int i = window[t];
                            if (i >= 0) acc += x[xBase + i] * w[wBase + t];
                        }
                    }
                    y[(n * d.M + m) * outSize + p] = acc;
                }
        }
        return y;
    }

    /// <summary>
    /// A per-tensor or per-output-channel parameter (zero point, scale): a scalar / 1-element tensor, or a 1-D
    /// tensor of length <paramref name="channels"/>. Returns one value per channel.
    /// </summary>
    public static double[] PerChannel(NodeContext ctx, Tensor? t, int channels, string name, double absent = 0)
    {
        var r = new double[channels];
        if (t is null) { Array.Fill(r, absent); return r; }
        var v = ToDoubles(t);
        if (t.Rank <= 1 && v.Length == 1) { Array.Fill(r, v[0]); return r; }
        if (t.Rank == 1 && v.Length == channels) return v;
        throw ctx.Error(EdgeCodes.ShapeMismatch, $"{name} {t} must be a scalar or a 1-D tensor of {channels} values (one per output channel).");
    }

    /// <summary>A per-tensor parameter: a scalar or a 1-element tensor.</summary>
    public static double Scalar(NodeContext ctx, Tensor? t, string name, double absent = 0)
    {
        if (t is null) return absent;
        if (t.Length != 1 || t.Rank > 1)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{name} {t} must be a scalar (per-tensor).");
        return ToDoubles(t)[0];
    }

    /// <summary>
    /// Element values as doubles, dispatching on the tensor's <see cref="DataType"/>. Works around
    /// Tensor.ToDoubles/ToInt64s, which match arrays by pattern: the CLR lets a byte[] pass as sbyte[]
    /// (and ushort[]/short[], uint[]/int[], long[]/ulong[]), so uint8 values of 128 and more came out negative.
    /// </summary>
    public static double[] ToDoubles(Tensor t)
    {
        switch (t.DataType)
        {
            case DataType.UInt8: return Widen(t.As<byte>(), v => v);
            case DataType.Int8: return Widen(t.As<sbyte>(), v => v);
            case DataType.UInt16: return Widen(t.As<ushort>(), v => v);
            case DataType.Int16: return Widen(t.As<short>(), v => v);
            case DataType.UInt32: return Widen(t.As<uint>(), v => v);
            case DataType.Int32: return Widen(t.As<int>(), v => v);
            case DataType.UInt64: return Widen(t.As<ulong>(), v => v);
            case DataType.Int64: return Widen(t.As<long>(), v => v);
            default: return t.ToDoubles();
        }
    }

    private static double[] Widen<T>(T[] a, Func<T, double> f)
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++) r[i] = f(a[i]);
        return r;
    }

    /// <summary>X minus a per-tensor zero point, as doubles.</summary>
    public static double[] Centered(Tensor x, double zeroPoint)
    {
        var v = ToDoubles(x);
        for (int i = 0; i < v.Length; i++) v[i] -= zeroPoint;
        return v;
    }

    /// <summary>W [M, ...] minus a per-output-channel zero point, as doubles.</summary>
    public static double[] CenteredPerChannel(Tensor w, double[] zeroPoints)
    {
        var v = ToDoubles(w);
        int per = w.Shape[0] == 0 ? 0 : v.Length / w.Shape[0];
        for (int i = 0; i < v.Length; i++) v[i] -= zeroPoints[i / per];
        return v;
    }

    public static void RequireType(NodeContext ctx, DataType t, string what, params DataType[] allowed)
    {
        if (!allowed.Contains(t))
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} {what} must be {string.Join(" or ", allowed.Select(a => a.OnnxName()))}, got {t.OnnxName()}.");
    }

    public static void RequireFloat(NodeContext ctx, DataType t, string what = "input")
    {
        if (!t.IsFloat())
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs a floating-point {what}, got {t.OnnxName()}.");
    }

    // ---------------------------------------------------------------- pooling

    /// <summary>Spatial rank of a pooling op: from kernel_shape (required), checked against X's rank when known.</summary>
    public static WindowAttributes ReadPoolAttributes(NodeContext ctx, Dim[]? xShape)
    {
        var ks = ctx.GetInts("kernel_shape") ?? throw ctx.Error(EdgeCodes.InvalidAttribute, "Required attribute 'kernel_shape' is missing.");
        if (ks.Length == 0) throw ctx.Error(EdgeCodes.InvalidAttribute, "kernel_shape must have one value per spatial axis; it is empty.");
        if (xShape is not null && xShape.Length != ks.Length + 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"kernel_shape has {ks.Length} values but the input has rank {xShape.Length} ({xShape.Length - 2} spatial axes).");
        return ReadAttributes(ctx, ks.Length);
    }

    /// <summary>Shape inference of AveragePool / MaxPool: [N, C, out...] with the input's element type.</summary>
    public static void InferPool(InferenceContext ctx, DataType elemType)
    {
        var xs = ctx.InputShape(0);
        var a = ReadPoolAttributes(ctx, xs);
        var shape = new Dim[a.SpatialRank + 2];
        shape[0] = xs?[0] ?? Dim.Unknown;
        shape[1] = xs?[1] ?? Dim.Unknown;
        ForwardShape(ctx, a, xs?[2..], a.KernelShape!.Select(k => Dim.Known(k)).ToArray()).CopyTo(shape, 2);
        ctx.SetOutput(0, elemType, shape);
        if (ctx.OutputCount > 1) ctx.SetOutput(1, DataType.Int64, shape);
    }

    /// <summary>Run-time pooling geometry for X [N, C, spatial...].</summary>
    public static (WindowAttributes Attributes, WindowGeometry Geometry) PoolGeometry(NodeContext ctx, Tensor x)
    {
        var a = ReadPoolAttributes(ctx, x.Shape.Select(d => Dim.Known(d)).ToArray());
        return (a, Forward(ctx, a, x.Shape[2..], a.KernelShape!));
    }

    /// <summary>Shape inference of GlobalAveragePool / GlobalMaxPool: [N, C, 1, ...].</summary>
    public static void InferGlobalPool(InferenceContext ctx)
    {
        var t = ctx.InputType(0);
        if (t is null) return;
        RequireFloat(ctx, t.ElemType);
        if (t.Shape is null) { ctx.SetOutput(0, t.ElemType, (Dim[]?)null); return; }
        if (t.Shape.Length < 2)
            throw ctx.Error(EdgeCodes.ShapeMismatch, $"{ctx.Node.OpType} needs an input of rank at least 2 (N x C x spatial...), got rank {t.Shape.Length}.");
        var shape = t.Shape.Select((d, i) => i < 2 ? d : Dim.Known(1)).ToArray();
        ctx.SetOutput(0, t.ElemType, shape);
    }

    /// <summary>Global pooling: reduces every spatial axis of X [N, C, ...] to 1 with <paramref name="reduce"/> over each channel.</summary>
    public static void ExecuteGlobalPool(ExecutionContext ctx, Func<double[], int, int, double> reduce)
    {
        var x = ctx.RequireInput(0);
        RequireFloat(ctx, x.DataType);
        RequireRank(ctx, x, 2);
        var v = ToDoubles(x);
        int channels = x.Shape[0] * x.Shape[1];
        int size = channels == 0 ? 0 : v.Length / channels;
        var y = new double[channels];
        for (int c = 0; c < channels; c++) y[c] = reduce(v, c * size, size);
        var shape = x.Shape.Select((d, i) => i < 2 ? d : 1).ToArray();
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, shape, y));
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear (per tensor or per row). Quantize:
/// y = saturate(round_half_to_even(x / scale) + zeroPoint), the division done in float (not a multiply by the
/// reciprocal), NaN maps to the zero point, ±infinity saturates. Dequantize: y = (float)(x - zeroPoint) * scale.
/// s8 tensors are handled as u8 with the zero point + 128 and the bits xor 0x80 (identical real values).
/// </summary>
public static class QLinear
{
    /// <summary>y = saturate(round_half_to_even(x / scale) + zeroPoint) to [0, 255].</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> y, float scale, int zeroPoint)
    {
        ValidateQ(x.Length, y.Length, scale, zeroPoint, 0, 255, "QLinear.Quantize");
        QuantizeCore(QPaths.Best, x, y, scale, zeroPoint, 0);
    }

    /// <summary>y = saturate(round_half_to_even(x / scale) + zeroPoint) to [-128, 127].</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<sbyte> y, float scale, int zeroPoint)
    {
        ValidateQ(x.Length, y.Length, scale, zeroPoint, -128, 127, "QLinear.Quantize");
        QuantizeCore(QPaths.Best, x, MemoryMarshal.AsBytes(y), scale, zeroPoint + 128, 0x80);
    }

    /// <summary>y = (float)(x - zeroPoint) * scale.</summary>
    public static void Dequantize(ReadOnlySpan<byte> x, Span<float> y, float scale, int zeroPoint)
    {
        ValidateQ(x.Length, y.Length, scale, zeroPoint, 0, 255, "QLinear.Dequantize");
        DequantizeCore(QPaths.Best, x, y, scale, zeroPoint, 0);
    }

    /// <summary>y = (float)(x - zeroPoint) * scale.</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> x, Span<float> y, float scale, int zeroPoint)
    {
        ValidateQ(x.Length, y.Length, scale, zeroPoint, -128, 127, "QLinear.Dequantize");
        DequantizeCore(QPaths.Best, MemoryMarshal.AsBytes(x), y, scale, zeroPoint + 128, 0x80);
    }

    /// <summary>
    /// Per-row asymmetric u8 quantization (ONNX DynamicQuantizeLinear per row; rows = 1 is per tensor): lo = min(0, min x),
    /// hi = max(0, max x), scale = (hi - lo) / 255 (1 when hi = lo), zeroPoint = saturate(round_half_to_even(0 - lo / scale)),
    /// then <see cref="Quantize(ReadOnlySpan{float}, Span{byte}, float, int)"/>. Inputs must be finite.
    /// </summary>
    public static void QuantizeRowsDynamic(ReadOnlySpan<float> x, Span<byte> y, Span<float> scales, Span<int> zeroPoints, int rows, int cols)
    {
        ValidateRows(x.Length, y.Length, scales.Length, zeroPoints.Length, rows, cols);
        RowsCore(QPaths.Best, x, y, scales, zeroPoints, rows, cols, symmetric: false);
    }

    /// <summary>Per-row symmetric s8 quantization: scale = max |x| / 127 (1 when 0), zeroPoint = 0, values in [-127, 127]. Inputs must be finite.</summary>
    public static void QuantizeRowsDynamic(ReadOnlySpan<float> x, Span<sbyte> y, Span<float> scales, Span<int> zeroPoints, int rows, int cols)
    {
        ValidateRows(x.Length, y.Length, scales.Length, zeroPoints.Length, rows, cols);
        RowsCore(QPaths.Best, x, MemoryMarshal.AsBytes(y), scales, zeroPoints, rows, cols, symmetric: true);
    }

    /// <summary>
    /// Per-channel dequantization of symmetric int8 weights (<c>Int8WeightOnly</c>): y[r, c] = (float)w[r, c] * scales[axis == 0 ? r : c]
    /// for a row-major [rows, cols] matrix (one rounding, the same value DequantizeLinear with zero point 0 gives). Axis 0 runs
    /// <see cref="Dequantize(ReadOnlySpan{sbyte}, Span{float}, float, int)"/>'s paths row by row; axis 1 has an AVX2 path
    /// (ARM64 uses the scalar reference for it).
    /// </summary>
    public static void DequantizeChannels(ReadOnlySpan<sbyte> w, ReadOnlySpan<float> scales, Span<float> y, int rows, int cols, int axis)
    {
        const string kernel = "QLinear.DequantizeChannels";
        if (rows < 0 || cols < 0) throw new ArgumentException($"{kernel}: bad rows={rows}, cols={cols}.", nameof(rows));
        if (axis is not (0 or 1)) throw new ArgumentException($"{kernel}: axis {axis} is not 0 or 1.", nameof(axis));
        if (w.Length != (long)rows * cols) throw new ArgumentException($"{kernel}: w has {w.Length} elements, expected rows*cols = {(long)rows * cols}.", nameof(w));
        if (y.Length != w.Length) throw new ArgumentException($"{kernel}: y has {y.Length} elements, expected {w.Length}.", nameof(y));
        if (scales.Length != (axis == 0 ? rows : cols)) throw new ArgumentException($"{kernel}: scales has {scales.Length} elements, expected {(axis == 0 ? rows : cols)}.", nameof(scales));
        DequantizeChannelsCore(QPaths.Best, MemoryMarshal.AsBytes(w), scales, y, rows, cols, axis);
    }

    /// <summary>The specification of <see cref="DequantizeChannels"/>.</summary>
    internal static void DequantizeChannelsScalar(ReadOnlySpan<sbyte> w, ReadOnlySpan<float> scales, Span<float> y, int rows, int cols, int axis)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) y[r * cols + c] = (float)w[r * cols + c] * scales[axis == 0 ? r : c];
    }

    internal static void DequantizeChannelsCore(QIsa isa, ReadOnlySpan<byte> w, ReadOnlySpan<float> scales, Span<float> y, int rows, int cols, int axis)
    {
        isa = QPaths.NoDot(isa);
        if (isa == QIsa.Scalar) { DequantizeChannelsScalar(MemoryMarshal.Cast<byte, sbyte>(w), scales, y, rows, cols, axis); return; }
        if (axis == 0)
        {
            // (float)((b ^ 0x80) - 128) * s = (float)w * s: Dequantize's s8 form, one row at a time.
            for (int r = 0; r < rows; r++) DequantizeCore(isa, w.Slice(r * cols, cols), y.Slice(r * cols, cols), scales[r], 128, 0x80);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            var wr = w.Slice(r * cols, cols);
            var yr = y.Slice(r * cols, cols);
            int c = 0;
            if (isa == QIsa.Avx2)
            {
                ref byte w0 = ref MemoryMarshal.GetReference(wr);
                ref float s0 = ref MemoryMarshal.GetReference(scales);
                ref float y0 = ref MemoryMarshal.GetReference(yr);
                for (; c + 8 <= cols; c += 8)
                {
                    var b = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref w0, c))).AsSByte();
                    Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(b)), Vector256.LoadUnsafe(ref s0, (nuint)c)).StoreUnsafe(ref y0, (nuint)c);
                }
            }
            for (; c < cols; c++) yr[c] = (float)(sbyte)wr[c] * scales[c];
        }
    }

    private static void ValidateQ(int xLength, int yLength, float scale, int zeroPoint, int qmin, int qmax, string kernel)
    {
        if (xLength != yLength) throw new ArgumentException($"{kernel}: y has {yLength} elements, expected {xLength} (as x).", "y");
        if (!(scale > 0) || !float.IsFinite(scale)) throw new ArgumentException($"{kernel}: scale {scale} must be finite and > 0.", nameof(scale));
        if (zeroPoint < qmin || zeroPoint > qmax) throw new ArgumentException($"{kernel}: zero point {zeroPoint} is not in [{qmin}, {qmax}].", nameof(zeroPoint));
    }

    private static void ValidateRows(int xLength, int yLength, int scalesLength, int zerosLength, int rows, int cols)
    {
        const string kernel = "QLinear.QuantizeRowsDynamic";
        if (rows < 0 || cols < 1) throw new ArgumentException($"{kernel}: bad rows={rows}, cols={cols}.", nameof(rows));
        if (xLength != (long)rows * cols) throw new ArgumentException($"{kernel}: x has {xLength} elements, expected rows*cols = {(long)rows * cols}.", "x");
        if (yLength != xLength) throw new ArgumentException($"{kernel}: y has {yLength} elements, expected {xLength}.", "y");
        if (scalesLength != rows) throw new ArgumentException($"{kernel}: scales has {scalesLength} elements, expected rows = {rows}.", "scales");
        if (zerosLength != rows) throw new ArgumentException($"{kernel}: zeroPoints has {zerosLength} elements, expected rows = {rows}.", "zeroPoints");
    }

    // ---------------------------------------------------------------- cores (u8 domain; flip = 0x80 turns the bytes into s8)

    internal static void QuantizeCore(QIsa isa, ReadOnlySpan<float> x, Span<byte> y, float scale, int zeroPoint, byte flip)
    {
        isa = QPaths.NoDot(isa);
        int i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref byte yr = ref MemoryMarshal.GetReference(y);
        ulong flip8 = flip * 0x0101010101010101UL;
        var lo = (float)-zeroPoint; var hi = (float)(255 - zeroPoint);
        if (isa == QIsa.Avx2)
        {
            var s = Vector256.Create(scale); var vlo = Vector256.Create(lo); var vhi = Vector256.Create(hi); var z = Vector256.Create(zeroPoint);
            for (; i + 8 <= x.Length; i += 8)
            {
                var r = Avx.RoundToNearestInteger(Avx.Divide(Vector256.LoadUnsafe(ref xr, (nuint)i), s));
                r = Avx.And(r, Avx.CompareEqual(r, r));                                     // NaN -> 0
                r = Avx.Min(Avx.Max(r, vlo), vhi);
                var q = Avx2.Add(Avx.ConvertToVector256Int32WithTruncation(r), z);
                Requantization.StoreBytesAvx2(q, ref Unsafe.Add(ref yr, i));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref yr, i), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref yr, i)) ^ flip8);
            }
        }
        else if (isa == QIsa.AdvSimd)
        {
            var s = Vector128.Create(scale); var vlo = Vector128.Create(lo); var vhi = Vector128.Create(hi); var z = Vector128.Create(zeroPoint);
            for (; i + 8 <= x.Length; i += 8)
            {
                var q0 = AdvSimd.Add(AdvSimd.ConvertToInt32RoundToZero(Clamp(AdvSimd.RoundToNearest(AdvSimd.Arm64.Divide(Vector128.LoadUnsafe(ref xr, (nuint)i), s)), vlo, vhi)), z);
                var q1 = AdvSimd.Add(AdvSimd.ConvertToInt32RoundToZero(Clamp(AdvSimd.RoundToNearest(AdvSimd.Arm64.Divide(Vector128.LoadUnsafe(ref xr, (nuint)i + 4), s)), vlo, vhi)), z);
                Requantization.StoreBytesArm(q0, q1, ref Unsafe.Add(ref yr, i));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref yr, i), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref yr, i)) ^ flip8);
            }
        }
        for (; i < x.Length; i++) y[i] = (byte)(QuantizeOne(x[i], scale, zeroPoint, lo, hi) ^ flip);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector128<float> Clamp(Vector128<float> r, Vector128<float> lo, Vector128<float> hi)
        {
            r = AdvSimd.And(r, AdvSimd.CompareEqual(r, r));
            return AdvSimd.Min(AdvSimd.Max(r, lo), hi);
        }
    }

    /// <summary>The specification of one element (u8 domain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int QuantizeOne(float x, float scale, int zeroPoint, float lo, float hi)
    {
        float r = MathF.Round(x / scale, MidpointRounding.ToEven);
        if (float.IsNaN(r)) r = 0;
        r = r < lo ? lo : r > hi ? hi : r;
        return (int)r + zeroPoint;
    }

    internal static void DequantizeCore(QIsa isa, ReadOnlySpan<byte> x, Span<float> y, float scale, int zeroPoint, byte flip)
    {
        isa = QPaths.NoDot(isa);
        int i = 0;
        ref byte xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ulong flip8 = flip * 0x0101010101010101UL;
        if (isa == QIsa.Avx2)
        {
            var s = Vector256.Create(scale); var z = Vector256.Create(zeroPoint);
            for (; i + 8 <= x.Length; i += 8)
            {
                var b = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref xr, i)) ^ flip8).AsByte();
                var v = Avx.Multiply(Avx.ConvertToVector256Single(Avx2.Subtract(Avx2.ConvertToVector256Int32(b), z)), s);
                v.StoreUnsafe(ref yr, (nuint)i);
            }
        }
        else if (isa == QIsa.AdvSimd)
        {
            var s = Vector128.Create(scale); var z = Vector128.Create(zeroPoint);
            for (; i + 8 <= x.Length; i += 8)
            {
                var b16 = AdvSimd.ZeroExtendWideningLower(Vector64.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref xr, i)) ^ flip8).AsByte());
                var lo = AdvSimd.Subtract(AdvSimd.ZeroExtendWideningLower(b16.GetLower()).AsInt32(), z);
                var hi = AdvSimd.Subtract(AdvSimd.ZeroExtendWideningUpper(b16).AsInt32(), z);
                AdvSimd.Multiply(AdvSimd.ConvertToSingle(lo), s).StoreUnsafe(ref yr, (nuint)i);
                AdvSimd.Multiply(AdvSimd.ConvertToSingle(hi), s).StoreUnsafe(ref yr, (nuint)i + 4);
            }
        }
        for (; i < x.Length; i++) y[i] = (float)((x[i] ^ flip) - zeroPoint) * scale;
    }

    internal static void RowsCore(QIsa isa, ReadOnlySpan<float> x, Span<byte> y, Span<float> scales, Span<int> zeroPoints, int rows, int cols, bool symmetric)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            MinMax(QPaths.NoDot(isa), row, out float mn, out float mx);
            float scale; int zp;
            if (symmetric)
            {
                float amax = MathF.Max(-mn, mx);
                scale = amax > 0 ? amax / 127f : 1f;
                zp = 0;
                QuantizeCore(isa, row, y.Slice(r * cols, cols), scale, 128, 0x80);
            }
            else
            {
                float lo = mn < 0 ? mn : 0, hi = mx > 0 ? mx : 0;
                scale = hi > lo ? (hi - lo) / 255f : 1f;
                float z = MathF.Round(0 - lo / scale, MidpointRounding.ToEven);
                zp = z < 0 ? 0 : z > 255 ? 255 : (int)z;
                QuantizeCore(isa, row, y.Slice(r * cols, cols), scale, zp, 0);
            }
            scales[r] = scale;
            zeroPoints[r] = zp;
        }
    }

    /// <summary>Min and max of a row of finite floats (order-independent, so every path agrees).</summary>
    internal static void MinMax(QIsa isa, ReadOnlySpan<float> x, out float mn, out float mx)
    {
        mn = x[0]; mx = x[0];
        int i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        if (isa == QIsa.Avx2 && x.Length >= 8)
        {
            var vmn = Vector256.LoadUnsafe(ref xr); var vmx = vmn;
            for (i = 8; i + 8 <= x.Length; i += 8) { var v = Vector256.LoadUnsafe(ref xr, (nuint)i); vmn = Avx.Min(vmn, v); vmx = Avx.Max(vmx, v); }
            for (int j = 0; j < 8; j++) { mn = MathF.Min(mn, vmn.GetElement(j)); mx = MathF.Max(mx, vmx.GetElement(j)); }
        }
        else if (isa == QIsa.AdvSimd && x.Length >= 4)
        {
            var vmn = Vector128.LoadUnsafe(ref xr); var vmx = vmn;
            for (i = 4; i + 4 <= x.Length; i += 4) { var v = Vector128.LoadUnsafe(ref xr, (nuint)i); vmn = AdvSimd.Min(vmn, v); vmx = AdvSimd.Max(vmx, v); }
            mn = MathF.Min(mn, AdvSimd.Arm64.MinAcross(vmn).ToScalar()); mx = MathF.Max(mx, AdvSimd.Arm64.MaxAcross(vmx).ToScalar());
        }
        for (; i < x.Length; i++) { float v = x[i]; mn = v < mn ? v : mn; mx = v > mx ? v : mx; }
    }
}

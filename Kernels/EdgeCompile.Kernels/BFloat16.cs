using System.Globalization;

namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX bfloat16 as the generated classes take it: the upper 16 bits of an IEEE float32 (1 sign, 8 exponent, 7
/// fraction bits). .NET has no bfloat16 type, so the kernels library defines this 2-byte struct (layout: one
/// <see cref="ushort"/>, the bit pattern) for <c>Run</c> parameters and buffers. Kernels never compute in it: they
/// widen to float (exact) and round back once. Conversions to bfloat16 round to nearest, ties to even (as ONNX's
/// reference and ONNX Runtime do); NaN stays a quiet NaN with its sign; overflow gives infinity.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    private readonly ushort _bits;

    private BFloat16(ushort bits) => _bits = bits;

    /// <summary>The raw bit pattern (the upper half of the float32 with the same value).</summary>
    public ushort Bits => _bits;

    /// <summary>The value with bit pattern <paramref name="bits"/>.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Exact: every bfloat16 is a float32.</summary>
    public static explicit operator float(BFloat16 value) => BitConverter.Int32BitsToSingle(value._bits << 16);

    /// <summary>Exact: every bfloat16 is a float64.</summary>
    public static explicit operator double(BFloat16 value) => (float)value;

    /// <summary>The nearest bfloat16, ties to even.</summary>
    public static explicit operator BFloat16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return new BFloat16((ushort)((u >> 16) | 0x40)); // quiet NaN, sign kept
        uint rounding = 0x7FFF + ((u >> 16) & 1);
        return new BFloat16((ushort)((u + rounding) >> 16));
    }

    /// <summary>
    /// The nearest bfloat16 of a double, rounded once (ties to even). Goes through float32 with "round to odd"
    /// (an inexact float keeps a sticky last bit), which makes the second rounding, 16 bits shorter, exact.
    /// </summary>
    public static explicit operator BFloat16(double value)
    {
        float f = (float)value;
        if (double.IsNaN(value) || float.IsInfinity(f) || f == value) return (BFloat16)f;
        int bits = BitConverter.SingleToInt32Bits(f);
        if (Math.Abs((double)f) > Math.Abs(value)) bits--; // the float neighbour toward zero (sign-magnitude bits)
        bits |= 1;
        return (BFloat16)BitConverter.Int32BitsToSingle(bits);
    }

    /// <summary>Bitwise equality (+0 and -0 differ; a NaN equals the same NaN bit pattern).</summary>
    public bool Equals(BFloat16 other) => _bits == other._bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);

    /// <inheritdoc/>
    public override int GetHashCode() => _bits;

    /// <summary>The float value, invariant culture.</summary>
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
}

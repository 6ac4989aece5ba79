namespace EdgeCompile.Compiler;

/// <summary>
/// bfloat16: the upper 16 bits of an IEEE float32. Conversion from float rounds to nearest even
/// (as ONNX's reference and ONNX Runtime do); NaN stays NaN.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    public readonly ushort Bits;
    public BFloat16(ushort bits) => Bits = bits;

    public static explicit operator float(BFloat16 v) => BitConverter.Int32BitsToSingle(v.Bits << 16);

    public static explicit operator BFloat16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return new BFloat16((ushort)((u >> 16) | 0x40)); // keep sign, force a quiet NaN
        uint rounding = 0x7FFF + ((u >> 16) & 1);
        return new BFloat16((ushort)((u + rounding) >> 16));
    }

    public bool Equals(BFloat16 other) => Bits == other.Bits;
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);
    public override int GetHashCode() => Bits;
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

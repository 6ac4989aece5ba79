namespace EdgeCompile.Compiler;

/// <summary>ONNX TensorProto.DataType values.</summary>
public enum DataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7,
    String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14,
    Complex128 = 15, BFloat16 = 16, Float8E4M3FN = 17, Float8E4M3FNUZ = 18, Float8E5M2 = 19,
    Float8E5M2FNUZ = 20, UInt4 = 21, Int4 = 22, Float4E2M1 = 23, Float8E8M0 = 24, UInt2 = 25, Int2 = 26,
}


/// <summary>Facts about data types, in one place.</summary>
public static class DataTypes
{
    /// <summary>The types the compiler and the reference executor support (issue: float64/32/16, bfloat16, 8-64-bit ints, bool).</summary>
    public static bool IsSupported(this DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16
        or DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64
        or DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64 or DataType.Bool;

    public static bool IsFloat(this DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;
    public static bool IsSignedInteger(this DataType t) => t is DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64;
    public static bool IsUnsignedInteger(this DataType t) => t is DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64;
    public static bool IsInteger(this DataType t) => t.IsSignedInteger() || t.IsUnsignedInteger();

    /// <summary>Bytes per element in raw_data (little-endian, fixed width).</summary>
    public static int ElementSize(this DataType t) => t switch
    {
        DataType.Bool or DataType.Int8 or DataType.UInt8 => 1,
        DataType.Int16 or DataType.UInt16 or DataType.Float16 or DataType.BFloat16 => 2,
        DataType.Int32 or DataType.UInt32 or DataType.Float => 4,
        DataType.Int64 or DataType.UInt64 or DataType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a supported fixed-width type"),
    };

    public static Type ClrType(this DataType t) => t switch
    {
        DataType.Float => typeof(float),
        DataType.Double => typeof(double),
        DataType.Float16 => typeof(Half),
        DataType.BFloat16 => typeof(BFloat16),
        DataType.Int8 => typeof(sbyte),
        DataType.Int16 => typeof(short),
        DataType.Int32 => typeof(int),
        DataType.Int64 => typeof(long),
        DataType.UInt8 => typeof(byte),
        DataType.UInt16 => typeof(ushort),
        DataType.UInt32 => typeof(uint),
        DataType.UInt64 => typeof(ulong),
        DataType.Bool => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a supported type"),
    };

    /// <summary>Lower-case ONNX name (as in the spec's type constraints).</summary>
    public static string OnnxName(this DataType t) => t switch
    {
        DataType.Float => "float",
        DataType.Double => "double",
        DataType.Float16 => "float16",
        DataType.BFloat16 => "bfloat16",
        _ => t.ToString().ToLowerInvariant(),
    };
}

using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler;

/// <summary>
/// A dense tensor value as the reference executor sees it: an ONNX data type, a shape and a typed
/// CLR array (float[], double[], Half[], BFloat16[], sbyte[] ... ulong[], bool[]) in row-major order.
/// Written for clarity: operators convert to double (floats) or long (integers) where that is exact,
/// compute, and convert back once.
/// </summary>
public sealed class Tensor
{
    public Tensor(DataType dataType, int[] shape, Array data)
    {
        if (!dataType.IsSupported()) throw new EdgeException(EdgeCodes.UnsupportedDataType, $"Data type {dataType} is not supported.");
        if (data.GetType().GetElementType() != dataType.ClrType())
            throw new ArgumentException($"Array of {data.GetType().GetElementType()} does not hold {dataType}.");
        long n = Shapes.Product(shape);
        if (n != data.Length) throw new ArgumentException($"Shape [{string.Join(",", shape)}] needs {n} elements, array has {data.Length}.");
        DataType = dataType;
        Shape = shape;
        Data = data;
    }

    public DataType DataType { get; }
    public int[] Shape { get; }
    public Array Data { get; }
    public int Length => Data.Length;
    public int Rank => Shape.Length;

    public T[] As<T>() => (T[])Data;

    public static Tensor Zeros(DataType dataType, int[] shape) =>
        new(dataType, shape, Array.CreateInstance(dataType.ClrType(), checked((int)Shapes.Product(shape))));

    public static Tensor FromArray<T>(T[] data, params int[] shape) => new(DataTypeOf<T>(), shape, data);

    public static Tensor Scalar<T>(T value) => new(DataTypeOf<T>(), [], new[] { value });

    public static DataType DataTypeOf<T>() => Type.GetTypeCode(typeof(T)) switch
    {
        TypeCode.Single => DataType.Float,
        TypeCode.Double => DataType.Double,
        TypeCode.SByte => DataType.Int8,
        TypeCode.Int16 => DataType.Int16,
        TypeCode.Int32 => DataType.Int32,
        TypeCode.Int64 => DataType.Int64,
        TypeCode.Byte => DataType.UInt8,
        TypeCode.UInt16 => DataType.UInt16,
        TypeCode.UInt32 => DataType.UInt32,
        TypeCode.UInt64 => DataType.UInt64,
        TypeCode.Boolean => DataType.Bool,
        _ when typeof(T) == typeof(Half) => DataType.Float16,
        _ when typeof(T) == typeof(BFloat16) => DataType.BFloat16,
        _ => throw new ArgumentException($"No ONNX type for {typeof(T)}"),
    };

    /// <summary>The same data viewed with another shape (same element count); no copy.</summary>
    public Tensor Reshape(int[] shape) => new(DataType, shape, Data);

    /// <summary>Element values as doubles: exact for every float type and for integers up to 2^53.</summary>
    public double[] ToDoubles()
    {
        var r = new double[Length];
        // Switch on DataType, not on the array's runtime type: the CLR lets byte[] pass as sbyte[]
        // (and ushort[]/short[], uint[]/int[], ulong[]/long[]), so type patterns would misread signedness.
        switch (DataType)
        {
            case DataType.Float: { var a = As<float>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            case DataType.Double: Array.Copy(As<double>(), r, Length); break;
            case DataType.Float16: { var a = As<Half>(); for (int i = 0; i < a.Length; i++) r[i] = (double)a[i]; } break;
            case DataType.BFloat16: { var a = As<BFloat16>(); for (int i = 0; i < a.Length; i++) r[i] = (float)a[i]; } break;
            case DataType.UInt64: { var a = As<ulong>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            default: { var l = ToInt64s(); for (int i = 0; i < l.Length; i++) r[i] = l[i]; } break;
        }
        return r;
    }

    /// <summary>
    /// Element values as long: exact for every integer type and bool (uint64 keeps its bits, so
    /// add/sub/mul wrap correctly; operators that compare or divide uint64 use <see cref="ToUInt64s"/>).
    /// Floats are truncated toward zero (ONNX Cast semantics).
    /// </summary>
    public long[] ToInt64s()
    {
        var r = new long[Length];
        switch (DataType) // see ToDoubles: never pattern-match integer arrays by runtime type
        {
            case DataType.Int8: { var a = As<sbyte>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            case DataType.Int16: { var a = As<short>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            case DataType.Int32: { var a = As<int>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            case DataType.Int64: Array.Copy(As<long>(), r, Length); break;
            case DataType.UInt8: { var a = As<byte>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            case DataType.UInt16: { var a = As<ushort>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            case DataType.UInt32: { var a = As<uint>(); for (int i = 0; i < a.Length; i++) r[i] = a[i]; } break;
            case DataType.UInt64: { var a = As<ulong>(); for (int i = 0; i < a.Length; i++) r[i] = unchecked((long)a[i]); } break;
            case DataType.Bool: { var a = As<bool>(); for (int i = 0; i < a.Length; i++) r[i] = a[i] ? 1 : 0; } break;
            default: { var d = ToDoubles(); for (int i = 0; i < d.Length; i++) r[i] = DoubleToInt64(d[i]); } break;
        }
        return r;
    }

    public ulong[] ToUInt64s()
    {
        if (DataType == DataType.UInt64) return (ulong[])As<ulong>().Clone();
        var l = ToInt64s();
        var r = new ulong[l.Length];
        for (int i = 0; i < l.Length; i++) r[i] = unchecked((ulong)l[i]);
        return r;
    }

    public bool[] ToBools()
    {
        if (DataType == DataType.Bool) return (bool[])As<bool>().Clone();
        var d = ToDoubles();
        var r = new bool[d.Length];
        for (int i = 0; i < d.Length; i++) r[i] = d[i] != 0;
        return r;
    }

    /// <summary>Truncates toward zero; NaN gives 0 and out-of-range values saturate (ONNX leaves both undefined).</summary>
    public static long DoubleToInt64(double v)
    {
        if (double.IsNaN(v)) return 0;
        if (v >= 9.2233720368547758E18) return long.MaxValue;
        if (v <= -9.2233720368547758E18) return long.MinValue;
        return (long)v;
    }

    /// <summary>Builds a tensor of any type from doubles: floats round to nearest even, integers truncate and wrap (like Cast).</summary>
    public static Tensor FromDoubles(DataType dataType, int[] shape, double[] values)
    {
        Array data = dataType switch
        {
            DataType.Float => Map(values, v => (float)v),
            DataType.Double => values,
            DataType.Float16 => Map(values, v => (Half)v),
            DataType.BFloat16 => Map(values, v => (BFloat16)(float)v),
            DataType.Bool => Map(values, v => v != 0),
            DataType.UInt64 => Map(values, v => v >= 18446744073709551615.0 ? ulong.MaxValue : v <= 0 || double.IsNaN(v) ? unchecked((ulong)DoubleToInt64(v)) : (ulong)v),
            _ => FromInt64s(dataType, shape, Map(values, DoubleToInt64)).Data,
        };
        return new Tensor(dataType, shape, data);
    }

    /// <summary>Builds an integer/bool tensor from longs, wrapping to the type's width (two's complement); floats convert.</summary>
    public static Tensor FromInt64s(DataType dataType, int[] shape, long[] values)
    {
        Array data = dataType switch
        {
            DataType.Int8 => Map(values, v => unchecked((sbyte)v)),
            DataType.Int16 => Map(values, v => unchecked((short)v)),
            DataType.Int32 => Map(values, v => unchecked((int)v)),
            DataType.Int64 => values,
            DataType.UInt8 => Map(values, v => unchecked((byte)v)),
            DataType.UInt16 => Map(values, v => unchecked((ushort)v)),
            DataType.UInt32 => Map(values, v => unchecked((uint)v)),
            DataType.UInt64 => Map(values, v => unchecked((ulong)v)),
            DataType.Bool => Map(values, v => v != 0),
            DataType.Float => Map(values, v => (float)v),
            DataType.Double => Map(values, v => (double)v),
            DataType.Float16 => Map(values, v => (Half)(double)v),
            DataType.BFloat16 => Map(values, v => (BFloat16)(float)v),
            _ => throw new ArgumentOutOfRangeException(nameof(dataType)),
        };
        return new Tensor(dataType, shape, data);
    }

    public static Tensor FromUInt64s(DataType dataType, int[] shape, ulong[] values)
    {
        if (dataType == DataType.UInt64) return new Tensor(dataType, shape, values);
        if (dataType.IsFloat()) return FromDoubles(dataType, shape, Map(values, v => (double)v));
        return FromInt64s(dataType, shape, Map(values, v => unchecked((long)v)));
    }

    private static TOut[] Map<TIn, TOut>(TIn[] a, Func<TIn, TOut> f)
    {
        var r = new TOut[a.Length];
        for (int i = 0; i < a.Length; i++) r[i] = f(a[i]);
        return r;
    }

    /// <summary>ONNX Cast: float→int truncates toward zero, int→int wraps, anything→bool is "not zero".</summary>
    public Tensor CastTo(DataType target)
    {
        if (target == DataType) return this;
        if (DataType == DataType.UInt64 && !target.IsFloat()) return FromUInt64s(target, Shape, ToUInt64s());
        if (DataType == DataType.UInt64) return FromDoubles(target, Shape, ToDoubles());
        if (DataType.IsFloat())
        {
            if (target == DataType.Float16 && DataType == DataType.Double) return new Tensor(target, Shape, Map(As<double>(), v => (Half)v));
            return FromDoubles(target, Shape, ToDoubles());
        }
        return FromInt64s(target, Shape, ToInt64s());
    }

    /// <summary>
    /// The data-movement primitive: a new tensor of this type with <paramref name="shape"/>, whose element i
    /// is this tensor's element <paramref name="sourceIndex"/>[i]. Transpose, Gather, Slice, Expand,
    /// Tile, Pad (with a fill) and friends are index maps over it.
    /// </summary>
    public Tensor Take(int[] shape, ReadOnlySpan<int> sourceIndex)
    {
        var dst = Array.CreateInstance(Data.GetType().GetElementType()!, sourceIndex.Length);
        switch (Data)
        {
            case float[] a: TakeInto(a, (float[])dst, sourceIndex); break;
            case double[] a: TakeInto(a, (double[])dst, sourceIndex); break;
            case Half[] a: TakeInto(a, (Half[])dst, sourceIndex); break;
            case BFloat16[] a: TakeInto(a, (BFloat16[])dst, sourceIndex); break;
            case sbyte[] a: TakeInto(a, (sbyte[])dst, sourceIndex); break;
            case short[] a: TakeInto(a, (short[])dst, sourceIndex); break;
            case int[] a: TakeInto(a, (int[])dst, sourceIndex); break;
            case long[] a: TakeInto(a, (long[])dst, sourceIndex); break;
            case byte[] a: TakeInto(a, (byte[])dst, sourceIndex); break;
            case ushort[] a: TakeInto(a, (ushort[])dst, sourceIndex); break;
            case uint[] a: TakeInto(a, (uint[])dst, sourceIndex); break;
            case ulong[] a: TakeInto(a, (ulong[])dst, sourceIndex); break;
            case bool[] a: TakeInto(a, (bool[])dst, sourceIndex); break;
            default: throw new InvalidOperationException("unreachable: unsupported array type");
        }
        return new Tensor(DataType, shape, dst);
    }

    private static void TakeInto<T>(T[] src, T[] dst, ReadOnlySpan<int> idx)
    {
        for (int i = 0; i < idx.Length; i++) dst[i] = src[idx[i]];
    }

    /// <summary>Copies all elements; the result owns its array.</summary>
    public Tensor Clone() => new(DataType, (int[])Shape.Clone(), (Array)Data.Clone());

    public override string ToString() => $"{DataType.OnnxName()}[{string.Join(",", Shape)}]";
}

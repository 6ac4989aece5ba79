using System.Runtime.InteropServices;
using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Onnx;

/// <summary>
/// TensorProto → <see cref="Tensor"/>. Handles raw_data (little-endian, fixed width), the typed repeated
/// fields (float_data, int32_data for the ≤16-bit types and bool, int64_data, uint64_data for uint32/uint64,
/// double_data) and external data, and checks that the data size matches the declared dims.
/// </summary>
public static class TensorDecoder
{
    /// <summary>Converts dims to ints, rejecting negative dims and products that overflow.</summary>
    public static int[] CheckedDims(IReadOnlyList<long> dims, string name)
    {
        var r = new int[dims.Count];
        long n = 1;
        for (int i = 0; i < dims.Count; i++)
        {
            long d = dims[i];
            if (d < 0) throw new EdgeException(EdgeCodes.InvalidDimension, $"Tensor '{name}' has negative dimension {d} at axis {i}.");
            if (d > int.MaxValue) throw new EdgeException(EdgeCodes.InvalidDimension, $"Tensor '{name}' has dimension {d} at axis {i}, larger than the supported 2^31-1.");
            r[i] = (int)d;
            n = d == 0 ? 0 : n;
            if (n != 0 && n > int.MaxValue / Math.Max(d, 1) && d > 1)
                throw new EdgeException(EdgeCodes.InvalidDimension, $"Tensor '{name}' has dimensions [{string.Join(",", dims)}] whose element count overflows the supported 2^31-1 elements.");
            n = n == 0 ? 0 : n * d;
        }
        return r;
    }

    /// <summary>
    /// Load-time check that the stored data can hold the declared elements (without decoding):
    /// unknown type codes and size mismatches are reported when the file is read, not when a value is first used.
    /// </summary>
    public static void CheckDeclaredSize(TensorProto p, string name)
    {
        if (p.DataType is <= DataType.Undefined or > DataType.Int2)
            throw new EdgeException(EdgeCodes.UnsupportedDataType, $"Tensor '{name}' has unknown data type code {(int)p.DataType}.");
        if (!p.DataType.IsSupported() || p.DataLocation == 1 || p.ExternalData.Count > 0) return;
        long n = Shapes.Product(CheckedDims(p.Dims, name));
        if (p.HasRawData)
        {
            if (p.RawData.Length != n * p.DataType.ElementSize())
                throw new EdgeException(EdgeCodes.TensorSizeMismatch,
                    $"Tensor '{name}' declares {n} elements of {p.DataType.OnnxName()} ({n * p.DataType.ElementSize()} bytes) but its raw_data has {p.RawData.Length} bytes.");
            return;
        }
        int have = p.DataType switch
        {
            DataType.Float => p.FloatData.Count,
            DataType.Double => p.DoubleData.Count,
            DataType.Int64 => p.Int64Data.Count,
            DataType.UInt64 or DataType.UInt32 => p.UInt64Data.Count,
            _ => p.Int32Data.Count,
        };
        Check(have, checked((int)n), name);
    }

    public static Tensor Decode(TensorProto p, string? baseDirectory)
    {
        string name = p.Name;
        if (!p.DataType.IsSupported())
            throw new EdgeException(EdgeCodes.UnsupportedDataType,
                $"Tensor '{name}' has data type {p.DataType} ({(int)p.DataType}), which is not supported (supported: float, double, float16, bfloat16, int8-64, uint8-64, bool).");
        var shape = CheckedDims(p.Dims, name);
        int n = (int)Shapes.Product(shape);
        var t = p.DataType;

        if (p.DataLocation == 1 || p.ExternalData.Count > 0)
        {
            var bytes = ExternalData.Read(p, baseDirectory, (long)n * t.ElementSize());
            return FromRaw(t, shape, bytes.Span, name);
        }
        if (p.HasRawData) return FromRaw(t, shape, p.RawData.Span, name);

        // Typed fields.
        switch (t)
        {
            case DataType.Float: Check(p.FloatData.Count, n, name); return new Tensor(t, shape, p.FloatData.ToArray());
            case DataType.Double: Check(p.DoubleData.Count, n, name); return new Tensor(t, shape, p.DoubleData.ToArray());
            case DataType.Int64: Check(p.Int64Data.Count, n, name); return new Tensor(t, shape, p.Int64Data.ToArray());
            case DataType.UInt64: Check(p.UInt64Data.Count, n, name); return new Tensor(t, shape, p.UInt64Data.ToArray());
            case DataType.UInt32: Check(p.UInt64Data.Count, n, name); return new Tensor(t, shape, p.UInt64Data.Select(v => unchecked((uint)v)).ToArray());
            case DataType.Float16:
                Check(p.Int32Data.Count, n, name);
                return new Tensor(t, shape, p.Int32Data.Select(v => BitConverter.UInt16BitsToHalf(unchecked((ushort)v))).ToArray());
            case DataType.BFloat16:
                Check(p.Int32Data.Count, n, name);
                return new Tensor(t, shape, p.Int32Data.Select(v => new BFloat16(unchecked((ushort)v))).ToArray());
            default:
                // int8/16/32, uint8/16, bool travel in int32_data.
                Check(p.Int32Data.Count, n, name);
                return Tensor.FromInt64s(t, shape, p.Int32Data.Select(v => (long)v).ToArray());
        }
    }

    private static void Check(int have, int want, string name)
    {
        if (have != want)
            throw new EdgeException(EdgeCodes.TensorSizeMismatch, $"Tensor '{name}' declares {want} elements but its data holds {have}.");
    }

    /// <summary>Decodes little-endian fixed-width elements (the raw_data and external-data layout).</summary>
    public static Tensor FromRaw(DataType t, int[] shape, ReadOnlySpan<byte> bytes, string name)
    {
        int n = (int)Shapes.Product(shape);
        int size = t.ElementSize();
        if ((long)n * size != bytes.Length)
            throw new EdgeException(EdgeCodes.TensorSizeMismatch,
                $"Tensor '{name}' declares {n} elements of {t.OnnxName()} ({(long)n * size} bytes) but its data has {bytes.Length} bytes.");
        Array data = Array.CreateInstance(t.ClrType(), n);
        if (t == DataType.Bool)
        {
            var b = (bool[])data;
            for (int i = 0; i < n; i++) b[i] = bytes[i] != 0;
        }
        else if (BitConverter.IsLittleEndian)
        {
            // Same layout as the CLR array on little-endian hosts: one block copy.
            bytes.CopyTo(MemoryMarshal.AsBytes(AsSpan(data)));
        }
        else
        {
            throw new PlatformNotSupportedException("big-endian hosts are not supported");
        }
        return new Tensor(t, shape, data);
    }

    /// <summary>The raw little-endian bytes of a tensor's elements (bool as one byte each).</summary>
    public static byte[] ToRaw(Tensor tensor)
    {
        if (tensor.Data is bool[] b) return b.Select(v => v ? (byte)1 : (byte)0).ToArray();
        return MemoryMarshal.AsBytes(AsSpan(tensor.Data)).ToArray();
    }

    private static Span<byte> AsSpan(Array data) => data switch
    {
        float[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        double[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        Half[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        BFloat16[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        sbyte[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        short[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        int[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        long[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        byte[] a => a.AsSpan(),
        ushort[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        uint[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        ulong[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        _ => throw new ArgumentException("unsupported array"),
    };
}

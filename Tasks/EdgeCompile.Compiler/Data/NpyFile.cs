using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Onnx;

namespace EdgeCompile.Compiler.Data;

/// <summary>
/// Reads NumPy <c>.npy</c> files (format versions 1-3): little-endian or single-byte numeric dtypes and
/// bool, C order. Used for calibration/validation data and sample test sets.
/// </summary>
public static partial class NpyFile
{
    [GeneratedRegex(@"'descr'\s*:\s*'(?<d>[^']+)'")] private static partial Regex Descr();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(?<f>True|False)")] private static partial Regex Fortran();
    [GeneratedRegex(@"'shape'\s*:\s*\((?<s>[^)]*)\)")] private static partial Regex ShapeRx();

    public static Tensor Load(string path)
    {
        try
        {
            if (!File.Exists(path)) throw new EdgeException(EdgeCodes.DataFileUnreadable, $"Data file '{path}' does not exist.", path);
            return Parse(File.ReadAllBytes(path));
        }
        catch (EdgeException e) { throw e.WithFile(path); }
    }

    public static Tensor Parse(byte[] bytes)
    {
        static EdgeException Bad(string why) => new(EdgeCodes.DataFileUnreadable, $"Not a valid .npy file: {why}.");
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY") throw Bad("missing the \\x93NUMPY magic");
        int major = bytes[6];
        int headerLen, offset;
        if (major == 1) { headerLen = bytes[8] | bytes[9] << 8; offset = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw Bad("truncated header");
            headerLen = (int)BitConverter.ToUInt32(bytes, 8); offset = 12;
        }
        else throw Bad($"format version {major} is unknown");
        if (headerLen < 0 || offset + headerLen > bytes.Length) throw Bad("header length points past the end");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes, offset, headerLen);
        var d = Descr().Match(header); var f = Fortran().Match(header); var s = ShapeRx().Match(header);
        if (!d.Success || !f.Success || !s.Success) throw Bad("header lacks descr, fortran_order or shape");
        if (f.Groups["f"].Value == "True") throw Bad("Fortran-order arrays are not supported; save with np.ascontiguousarray");
        var type = d.Groups["d"].Value switch
        {
            "<f4" => DataType.Float, "<f8" => DataType.Double, "<f2" => DataType.Float16,
            "|i1" or "<i1" => DataType.Int8, "|u1" or "<u1" => DataType.UInt8, "<i2" => DataType.Int16, "<u2" => DataType.UInt16,
            "<i4" => DataType.Int32, "<u4" => DataType.UInt32, "<i8" => DataType.Int64, "<u8" => DataType.UInt64, "|b1" => DataType.Bool,
            var other => throw new EdgeException(EdgeCodes.DataFileUnreadable, $"The .npy dtype '{other}' is not supported (use little-endian float16/32/64, int8-64, uint8-64 or bool)."),
        };
        var dims = s.Groups["s"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => long.TryParse(x.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw Bad($"shape entry '{x}'")).ToList();
        var shape = TensorDecoder.CheckedDims(dims, "npy");
        int start = offset + headerLen;
        long need = Shapes.Product(shape) * type.ElementSize();
        if (bytes.Length - start != need) throw Bad($"the data holds {bytes.Length - start} bytes; shape {Shapes.Format(shape)} of {type.OnnxName()} needs {need}");
        return TensorDecoder.FromRaw(type, shape, bytes.AsSpan(start), "npy");
    }
}

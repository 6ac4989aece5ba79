using System.Text;

namespace EdgeCompile.Tests.Shared;

/// <summary>
/// ONNX files written byte by byte (no ONNX library), for tests that need a file the tools would not produce or a
/// model stored with external data. Shared by the test projects (linked, not copied).
/// </summary>
public static class HandMadeOnnx
{
    /// <summary>A MatMul x[1, k] · W[k, n] → y[1, n] whose W is stored in the external-data file <paramref name="dataFile"/> beside <paramref name="path"/>.</summary>
    public static void WriteExternalDataModel(string path, string dataFile, int k, int n, float[] w)
    {
        var raw = new byte[w.Length * 4];
        Buffer.BlockCopy(w, 0, raw, 0, raw.Length);
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(path)!, dataFile), raw);
        byte[] Type(params long[] dims) => Pb.Bytes(1, Pb.Cat(Pb.Varint(1, 1), Pb.Bytes(2, Pb.Cat(dims.Select(d => Pb.Bytes(1, Pb.Varint(1, d))).ToArray()))));
        byte[] ValueInfo(string name, params long[] dims) => Pb.Cat(Pb.Str(1, name), Pb.Bytes(2, Type(dims)));
        var tensor = Pb.Cat(Pb.Varint(1, k), Pb.Varint(1, n), Pb.Varint(2, 1), Pb.Str(8, "W"),
            Pb.Bytes(13, Pb.Cat(Pb.Str(1, "location"), Pb.Str(2, dataFile))), Pb.Varint(14, 1));
        var node = Pb.Cat(Pb.Str(1, "x"), Pb.Str(1, "W"), Pb.Str(2, "y"), Pb.Str(3, "mm"), Pb.Str(4, "MatMul"));
        var graph = Pb.Cat(Pb.Bytes(1, node), Pb.Str(2, "g"), Pb.Bytes(5, tensor), Pb.Bytes(11, ValueInfo("x", 1, k)), Pb.Bytes(12, ValueInfo("y", 1, n)));
        var model = Pb.Cat(Pb.Varint(1, 8), Pb.Bytes(7, graph), Pb.Bytes(8, Pb.Cat(Pb.Str(1, ""), Pb.Varint(2, 17))));
        File.WriteAllBytes(path, model);
    }

    /// <summary>Minimal protobuf encoding for hand-made test files.</summary>
    public static class Pb
    {
        public static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
        private static byte[] V(ulong v)
        {
            var r = new List<byte>();
            do { byte b = (byte)(v & 0x7F); v >>= 7; r.Add(v != 0 ? (byte)(b | 0x80) : b); } while (v != 0);
            return r.ToArray();
        }
        public static byte[] Varint(int field, long v) => Cat(V((ulong)(field << 3)), V((ulong)v));
        public static byte[] Bytes(int field, byte[] b) => Cat(V((ulong)(field << 3 | 2)), V((ulong)b.Length), b);
        public static byte[] Str(int field, string s) => Bytes(field, Encoding.UTF8.GetBytes(s));
    }
}

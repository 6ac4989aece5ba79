using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests.Quantization;

public class CalibrationDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-quant-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>np.save's format (version 1.0) for float32 / int64 arrays.</summary>
    internal static byte[] Npy(Array data, params int[] shape)
    {
        string descr = data switch { float[] => "<f4", long[] => "<i8", double[] => "<f8", _ => throw new NotSupportedException() };
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(Encoding.ASCII.GetBytes(header));
        ms.Write(data switch
        {
            float[] f => MemoryMarshal.AsBytes(f.AsSpan()).ToArray(),
            long[] l => MemoryMarshal.AsBytes(l.AsSpan()).ToArray(),
            double[] d => MemoryMarshal.AsBytes(d.AsSpan()).ToArray(),
            _ => throw new NotSupportedException(),
        });
        return ms.ToArray();
    }

    internal static byte[] Npz(CompressionLevel level, params (string Name, byte[] Npy)[] arrays)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, npy) in arrays)
            {
                using var s = zip.CreateEntry(name + ".npy", level).Open();
                s.Write(npy);
            }
        return ms.ToArray();
    }

    private static Model TwoInputModel()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, 3);
        var y = b.Input("y", DataType.Float, 1, 3);
        var s = b.Node1("Add", x, y);
        b.Output(s, DataType.Float, [1, 3]);
        return b.Build();
    }

    private static Model OneInputModel(params long[] shape)
    {
        var b = new GraphBuilder();
        var x = b.Input("image", DataType.Float, shape);
        b.Output(b.Node1("Relu", x), DataType.Float, shape);
        return b.Build();
    }

    private static float[] Seq(int n) => Enumerable.Range(0, n).Select(i => i * 0.25f).ToArray();

    private string Write(string name, byte[] bytes) { var p = Path.Combine(_dir, name); File.WriteAllBytes(p, bytes); return p; }

    [Theory]
    [InlineData(CompressionLevel.NoCompression)]
    [InlineData(CompressionLevel.Optimal)]
    public void NpzStoredAndDeflatedRoundTrip(CompressionLevel level)
    {
        var bytes = Npz(level, ("x", Npy(Seq(6), 2, 3)), ("labels", Npy(new long[] { 4, 5 }, 2)));
        var arrays = NpzFile.Read(new MemoryStream(bytes));
        Assert.Equal(["x", "labels"], arrays.Select(a => a.Key));
        Assert.Equal(Seq(6), arrays[0].Value.As<float>());
        Assert.Equal([2, 3], arrays[0].Value.Shape);
        Assert.Equal(new long[] { 4, 5 }, arrays[1].Value.As<long>());
    }

    [Fact]
    public void NpzRejectsGarbageNonNpyMembersAndBombs()
    {
        Assert.Equal(EdgeCodes.DataFileUnreadable, Assert.Throws<EdgeException>(() => NpzFile.Read(new MemoryStream([1, 2, 3, 4]))).Code);
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        using (var s = zip.CreateEntry("readme.txt").Open()) s.Write("hi"u8);
        Assert.Equal(EdgeCodes.DataFileUnreadable, Assert.Throws<EdgeException>(() => NpzFile.Read(new MemoryStream(ms.ToArray()))).Code);
        var big = Npz(CompressionLevel.Optimal, ("x", Npy(new float[10000], 10000)));
        var e = Assert.Throws<EdgeException>(() => NpzFile.Read(new MemoryStream(big), maxBytes: 1000));
        Assert.Equal(EdgeCodes.DataFileUnreadable, e.Code);
        Assert.Contains("limit", e.Message);
        var bad = Npz(CompressionLevel.Optimal, ("x", [1, 2, 3]));
        Assert.Equal(EdgeCodes.DataFileUnreadable, Assert.Throws<EdgeException>(() => NpzFile.Read(new MemoryStream(bad))).Code);
    }

    [Fact]
    public void NpyWithoutAndWithTheBatchDimAreBothAccepted()
    {
        using var model = OneInputModel(1, 2, 2);
        var a = CalibrationData.Load(Write("a.npy", Npy(Seq(5 * 4), 5, 2, 2)), model);
        var b = CalibrationData.Load(Write("b.npy", Npy(Seq(5 * 4), 5, 1, 2, 2)), model);
        foreach (var d in new[] { a, b })
        {
            Assert.Equal(5, d.SampleCount);
            var s = d.Sample(3)["image"];
            Assert.Equal([1, 2, 2], s.Shape);
            Assert.Equal(Seq(20)[12..16], s.As<float>());
        }
        Assert.Contains(a.Warnings, w => w.Code == EdgeCodes.TooFewCalibrationSamples);
    }

    [Fact]
    public void NpzNamesArraysAfterInputs()
    {
        using var model = TwoInputModel();
        var p = Write("c.npz", Npz(CompressionLevel.Optimal, ("y", Npy(Seq(60), 20, 3)), ("x", Npy(Seq(60), 20, 3))));
        var d = CalibrationData.Load(p, model);
        Assert.Equal(20, d.SampleCount);
        Assert.Empty(d.Warnings);
        Assert.Equal(new[] { 0.75f, 1f, 1.25f }, d.Sample(1)["y"].As<float>());
    }

    [Fact]
    public void MismatchesAreCodedErrors()
    {
        using var one = OneInputModel(1, 2, 2);
        using var two = TwoInputModel();
        void Expect(string code, Func<object> f, string? contains = null)
        {
            var e = Assert.Throws<EdgeException>(() => f());
            Assert.Equal(code, e.Code);
            if (contains is not null) Assert.Contains(contains, e.Message);
        }
        // Wrong shape, wrong dtype, .npy for two inputs, missing / extra / differently sized arrays.
        Expect(EdgeCodes.CalibrationDataMismatch, () => CalibrationData.Load(Write("s.npy", Npy(Seq(30), 5, 2, 3)), one), "[N, 2, 2]");
        Expect(EdgeCodes.CalibrationDataMismatch, () => CalibrationData.Load(Write("t.npy", Npy(new double[20], 5, 2, 2)), one), "double");
        Expect(EdgeCodes.CalibrationDataMismatch, () => CalibrationData.Load(Write("u.npy", Npy(Seq(30), 10, 3)), two), "npz");
        Expect(EdgeCodes.CalibrationDataMismatch, () => CalibrationData.Load(Write("v.npz", Npz(CompressionLevel.Optimal, ("x", Npy(Seq(30), 10, 3)))), two), "'y'");
        Expect(EdgeCodes.CalibrationDataMismatch, () => CalibrationData.Load(Write("w.npz", Npz(CompressionLevel.Optimal,
            ("x", Npy(Seq(30), 10, 3)), ("y", Npy(Seq(30), 10, 3)), ("z", Npy(Seq(30), 10, 3)))), two), "'z'");
        Expect(EdgeCodes.CalibrationDataMismatch, () => CalibrationData.Load(Write("x.npz", Npz(CompressionLevel.Optimal,
            ("x", Npy(Seq(30), 10, 3)), ("y", Npy(Seq(33), 11, 3)))), two), "11 samples");
        // No samples; NaN and Inf.
        Expect(EdgeCodes.TooFewCalibrationSamples, () => CalibrationData.Load(Write("e.npy", Npy(Array.Empty<float>(), 0, 2, 2)), one));
        var nan = Seq(20); nan[13] = float.NaN;
        Expect(EdgeCodes.CalibrationDataNotFinite, () => CalibrationData.Load(Write("n.npy", Npy(nan, 5, 2, 2)), one), "sample 3");
        var inf = Seq(20); inf[0] = float.NegativeInfinity;
        Expect(EdgeCodes.CalibrationDataNotFinite, () => CalibrationData.Load(Write("i.npy", Npy(inf, 5, 2, 2)), one), "sample 0");
        Expect(EdgeCodes.DataFileUnreadable, () => CalibrationData.Load(Path.Combine(_dir, "missing.npy"), one));
    }
}

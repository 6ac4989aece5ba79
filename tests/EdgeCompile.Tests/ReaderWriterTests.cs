using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;
using ValueType = EdgeCompile.Compiler.IR.ValueType;

namespace EdgeCompile.Tests;

public class ReaderWriterTests
{
    private static Model Sample()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, 3);
        var w = b.Initializer("w", Tensor.FromArray(new[] { 1f, -2f, 3.5f }, 1, 3));
        var h = b.Initializer("h", Tensor.FromArray(new[] { Half.One, (Half)0.5f }, 2));
        var bf = b.Initializer("bf", Tensor.FromArray(new[] { (BFloat16)1.5f }, 1));
        var flags = b.Initializer("flags", Tensor.FromArray(new[] { true, false, true }, 3));
        var y = b.Node("Add", [x, w], 1, Int("i", -5), Float("f", 0.25f), Ints("is", 1, 2, 3), Floats("fs", 1.5f, -0f), String("s", "héllo"))[0];
        var z = b.Node1("Relu", y);
        b.Output(z, DataType.Float, [1, 3]);
        var m = b.Build();
        m.Metadata.Add(new("author", "tests"));
        m.Graph.ValueTypes[y] = ValueType.FromShape(DataType.Float, [1, 3]);
        _ = (h, bf, flags);
        return m;
    }

    [Fact]
    public void WriteThenReadGivesEqualModel()
    {
        var m = Sample();
        var bytes = OnnxWriter.Write(m);
        using var back = ModelFile.Parse(bytes);
        Assert.Null(ModelDiff.Compare(m, back));
        // And writing the re-read model gives the same bytes (deterministic writer).
        Assert.Equal(bytes, OnnxWriter.Write(back));
    }

    [Fact]
    public void LazyConstantExposesItsFileSliceWithoutDecoding()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgecompile-rawbytes-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxWriter.WriteFile(Sample(), path);
            using var m = ModelFile.Load(path);
            var w = m.Graph.Initializers["w"];
            Assert.True(w.TryGetRawBytes(out var raw));
            Assert.True(w.IsLazy); // reading the slice does not decode
            Assert.Equal(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new[] { 1f, -2f, 3.5f }.AsSpan()).ToArray(), raw.ToArray());
            _ = w.Value;
            Assert.False(w.TryGetRawBytes(out _)); // decoded: use Value
            Assert.False(new Constant("c", Tensor.Scalar(1f)).TryGetRawBytes(out _)); // built in memory: no file bytes
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ModelDiffNoticesAChangedWeight()
    {
        var a = Sample();
        var b = Sample();
        b.Graph.Initializers.Set(new Constant("w", Tensor.FromArray(new[] { 1f, -2f, 3.25f }, 1, 3)));
        Assert.NotNull(ModelDiff.Compare(a, b));
    }

    [Fact]
    public void TensorProtoRoundTripsEveryType()
    {
        var tensors = new[]
        {
            Tensor.FromArray(new[] { 1.5, -2.25 }, 2),
            Tensor.FromArray(new sbyte[] { -128, 127 }, 2),
            Tensor.FromArray(new short[] { -3, 4 }, 2),
            Tensor.FromArray(new[] { int.MinValue, 7 }, 2),
            Tensor.FromArray(new[] { long.MaxValue, -1L }, 2),
            Tensor.FromArray(new byte[] { 0, 255 }, 2),
            Tensor.FromArray(new ushort[] { 65535, 1 }, 2),
            Tensor.FromArray(new uint[] { uint.MaxValue, 2 }, 2),
            Tensor.FromArray(new ulong[] { ulong.MaxValue, 3 }, 2),
        };
        foreach (var t in tensors)
        {
            var back = TensorDecoder.Decode(OnnxReader.ParseTensor(OnnxWriter.WriteTensor(t, "t")), null);
            Assert.Equal(t.DataType, back.DataType);
            Assert.Equal(TensorDecoder.ToRaw(t), TensorDecoder.ToRaw(back));
        }
    }

    [BackendDataFact]
    public void EveryConformanceModelRoundTrips()
    {
        int count = 0;
        var failures = new List<string>();
        foreach (var (_, dir) in EdgeCompile.Conformance.ConformanceRunner.EnumerateCases(TestPaths.BackendTests!))
        {
            Model a;
            try { a = ModelFile.Load(Path.Combine(dir, "model.onnx")); }
            catch (EdgeCompile.Compiler.Diagnostics.EdgeException) { continue; } // unsupported data types are reported elsewhere
            using (a)
            {
                using var b = ModelFile.Parse(OnnxWriter.Write(a));
                var diff = ModelDiff.Compare(a, b);
                if (diff is not null) failures.Add($"{Path.GetFileName(dir)}: {diff}");
                count++;
            }
        }
        Assert.True(count > 1000, $"only {count} models were read");
        Assert.Empty(failures);
    }
}

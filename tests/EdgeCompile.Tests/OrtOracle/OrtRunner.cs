using System.Runtime.InteropServices;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Reference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = EdgeCompile.Compiler.Tensor;
using BFloat16 = EdgeCompile.Compiler.BFloat16;

namespace EdgeCompile.Tests.OrtOracle;

/// <summary>
/// Runs an IR model in ONNX Runtime (the second oracle): the model is serialized with <see cref="OnnxWriter"/>
/// (so the writer is exercised too), loaded from the bytes into an <see cref="InferenceSession"/> and run on the
/// CPU provider with one thread. Graph optimizations are off (<see cref="GraphOptimizationLevel.ORT_DISABLE_ALL"/>):
/// the oracle is ORT's per-operator kernels, not its fusions (Conv+BatchNorm folding, LayerNorm/Gelu fusion,
/// MatMul+Add→Gemm), which legitimately reorder float arithmetic.
/// Tensors cross the boundary as raw little-endian bytes, so every fixed-width type we support
/// (float, double, float16, bfloat16, 8-64-bit integers, bool) works the same way.
/// </summary>
public static class OrtRunner
{
    private static SessionOptions NewOptions() => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };

    /// <summary>Runs <paramref name="model"/> in ORT; returns every graph output by name.</summary>
    public static Dictionary<string, Tensor> Run(Model model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        byte[] bytes = OnnxWriter.Write(model);
        using var options = NewOptions();
        using var session = new InferenceSession(bytes, options);

        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var input in model.Graph.Inputs)
            {
                if (!inputs.TryGetValue(input.Name, out var t)) continue; // an input with an initializer default
                names.Add(input.Name);
                values.Add(ToOrt(t));
            }
            var outputNames = model.Graph.Outputs.Select(o => o.Name).ToList();
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, outputNames);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            int i = 0;
            foreach (var v in outputs) result[outputNames[i++]] = FromOrt(v);
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Runs the model in both executors: (ours, ORT).</summary>
    public static (Dictionary<string, Tensor> Ours, Dictionary<string, Tensor> Ort) RunBoth(Model model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var ort = Run(model, inputs);
        var ours = new ReferenceExecutor(model).Run(inputs);
        return (ours, ort);
    }

    /// <summary>Copies a tensor into an ORT-owned buffer (ONNX's TensorProto data types and ORT's element types share numbers).</summary>
    public static OrtValue ToOrt(Tensor t)
    {
        var shape = t.Shape.Select(d => (long)d).ToArray();
        var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)(int)t.DataType, shape);
        try
        {
            if (t.Length > 0) RawBytes(t.Data).CopyTo(v.GetTensorMutableRawData());
            return v;
        }
        catch
        {
            v.Dispose();
            throw;
        }
    }

    public static Tensor FromOrt(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        var type = (DataType)(int)info.ElementDataType;
        if (!type.IsSupported()) throw new NotSupportedException($"ORT returned a {info.ElementDataType} tensor.");
        int[] shape = info.Shape.Select(d => checked((int)d)).ToArray();
        var t = Tensor.Zeros(type, shape);
        if (t.Length > 0)
        {
            var src = v.GetTensorMutableRawData();
            var dst = RawBytes(t.Data);
            if (src.Length != dst.Length) throw new InvalidOperationException($"ORT buffer has {src.Length} bytes, {t} needs {dst.Length}.");
            src.CopyTo(dst);
        }
        return t;
    }

    /// <summary>The array's elements as bytes (all our element types are unmanaged, fixed-width, little-endian here).</summary>
    private static Span<byte> RawBytes(Array a) => a switch
    {
        float[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        double[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        Half[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        BFloat16[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        sbyte[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        short[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        int[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        long[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        byte[] x => x.AsSpan(),
        ushort[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        uint[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        ulong[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        bool[] x => MemoryMarshal.AsBytes(x.AsSpan()),
        _ => throw new NotSupportedException($"No raw view of {a.GetType()}."),
    };
}

/// <summary>Comparison of our outputs with the oracle's: floats within tolerance, integers and bool exactly.</summary>
public static class OracleAssert
{
    public const double Rtol = 1e-4, Atol = 1e-5;

    public static void Equal(Tensor expected, Tensor actual, string what = "", double rtol = Rtol, double atol = Atol)
    {
        string at = what.Length > 0 ? $"{what}: " : "";
        Assert.True(expected.DataType == actual.DataType, $"{at}type: ORT {expected.DataType.OnnxName()}, ours {actual.DataType.OnnxName()}");
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{at}shape: ORT {Shapes.Format(expected.Shape)}, ours {Shapes.Format(actual.Shape)}");
        if (expected.DataType.IsFloat())
        {
            var e = expected.ToDoubles();
            var a = actual.ToDoubles();
            for (int i = 0; i < e.Length; i++)
            {
                bool ok = double.IsNaN(e[i]) ? double.IsNaN(a[i])
                    : double.IsInfinity(e[i]) ? e[i] == a[i]
                    : Math.Abs(e[i] - a[i]) <= atol + rtol * Math.Abs(e[i]);
                Assert.True(ok, $"{at}element {i} (of {Shapes.Format(expected.Shape)}): ORT {e[i]:R}, ours {a[i]:R}");
            }
        }
        else if (expected.DataType == DataType.UInt64)
        {
            Assert.Equal(expected.ToUInt64s(), actual.ToUInt64s());
        }
        else
        {
            var e = expected.ToInt64s();
            var a = actual.ToInt64s();
            for (int i = 0; i < e.Length; i++)
                Assert.True(e[i] == a[i], $"{at}element {i} (of {Shapes.Format(expected.Shape)}): ORT {e[i]}, ours {a[i]}");
        }
    }

    /// <summary>Runs the model in both executors and compares every output.</summary>
    public static void SameAsOrt(Model model, IReadOnlyDictionary<string, Tensor> inputs, double rtol = Rtol, double atol = Atol)
    {
        var (ours, ort) = OrtRunner.RunBoth(model, inputs);
        foreach (var o in model.Graph.Outputs)
            Equal(ort[o.Name], ours[o.Name], o.Name, rtol, atol);
    }
}

namespace EdgeCompile.Generators.Tests.Support;

/// <summary>
/// A stand-in for the EdgeCompile.Kernels API (docs/edgeplan.md, "Kernel ABI"), compiled with the generated code:
/// the signatures are the spec's, the bodies record each call (name, span lengths, constants) in <c>CallLog</c>.
/// The real kernels library is written and tested elsewhere; this only checks what the generated code passes.
/// </summary>
internal static class KernelsStub
{
    public const string Source = """
        #pragma warning disable CS1591 // a test stub: no docs
        using System;
        using System.Collections.Generic;
        using System.Globalization;
        using System.Linq;
        using System.Reflection;
        using System.Runtime.InteropServices;

        namespace EdgeCompile.Kernels;

        public static class CallLog
        {
            public static readonly List<string> Calls = new();

            // Off: Data.Copy and Data.StridedCopy skip recording, so a test can measure Run's own allocations.
            public static bool Enabled = true;

            internal static void Record(string name, params object[] args)
                => Calls.Add(name + "(" + string.Join(", ", args.Select(static a => a switch
                {
                    float f => f.ToString("R", CultureInfo.InvariantCulture),
                    IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
                    _ => a.ToString(),
                })) + ")");

            internal static string Ints(ReadOnlySpan<int> values) => "[" + string.Join(",", values.ToArray()) + "]";
        }

        public enum Activation { None, Relu, Clip, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish }

        public interface IGemmLayer
        {
            static abstract int M { get; }
            static abstract int K { get; }
            static abstract int N { get; }
            static abstract bool TransA { get; }
            static abstract bool TransB { get; }
            static abstract float Alpha { get; }
            static abstract float Beta { get; }
            static abstract int CRows { get; }
            static abstract int CCols { get; }
            static abstract Activation Act { get; }
            static abstract float P0 { get; }
            static abstract float P1 { get; }
        }

        public static class Conv
        {
            public static void Conv2D(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y,
                int n, int c, int h, int width, int k, int kh, int kw, int oh, int ow,
                int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW, int group,
                Activation act, float p0, float p1)
                => CallLog.Record("Conv.Conv2D", x.Length, w.Length, bias.Length, y.Length, n, c, h, width, k, kh, kw, oh, ow,
                    strideH, strideW, padTop, padLeft, dilationH, dilationW, group, act, p0, p1);
        }

        public static class Gemm
        {
            public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y,
                int m, int k, int n, bool transA, bool transB, float alpha, float beta, int cRows, int cCols,
                Activation act, float p0, float p1)
                => CallLog.Record("Gemm.Run", a.Length, b.Length, c.Length, y.Length, m, k, n, transA, transB, alpha, beta, cRows, cCols, act, p0, p1);

            // The layer-specialized entry point: the constants come from the layer struct, recorded exactly as Run's.
            public static void Run<TLayer>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y)
                where TLayer : struct, IGemmLayer
                => Run(a, b, c, y, TLayer.M, TLayer.K, TLayer.N, TLayer.TransA, TLayer.TransB, TLayer.Alpha, TLayer.Beta,
                    TLayer.CRows, TLayer.CCols, TLayer.Act, TLayer.P0, TLayer.P1);

            public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
                int batch, int m, int k, int n, int aBatchStride, int bBatchStride)
                => CallLog.Record("Gemm.MatMul", a.Length, b.Length, y.Length, batch, m, k, n, aBatchStride, bBatchStride);
        }

        public static class Pool
        {
            public static void MaxPool2D(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
                int strideH, int strideW, int padTop, int padLeft, int dilationH, int dilationW)
                => CallLog.Record("Pool.MaxPool2D", x.Length, y.Length, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilationH, dilationW);
            public static void AveragePool2D(ReadOnlySpan<float> x, Span<float> y, int n, int c, int h, int width, int kh, int kw, int oh, int ow,
                int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, bool countIncludePad)
                => CallLog.Record("Pool.AveragePool2D", x.Length, y.Length, n, c, h, width, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, padBottom, padRight, countIncludePad);
            public static void GlobalAverage(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial)
                => CallLog.Record("Pool.GlobalAverage", x.Length, y.Length, channels, spatial);
            public static void GlobalMax(ReadOnlySpan<float> x, Span<float> y, int channels, int spatial)
                => CallLog.Record("Pool.GlobalMax", x.Length, y.Length, channels, spatial);
        }

        public enum UnaryOp { Copy, Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish, Exp, Log, Sqrt, Reciprocal, Neg, Abs,
            Floor, Ceil, Round, Erf, Gelu, GeluTanh, Softplus, Softsign, Elu, Selu, Mish, Sin, Cos }
        public enum BinaryOp { Add, Sub, Mul, Div, Pow, Max, Min, PRelu }

        public static class Elementwise
        {
            public static void Unary(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float p0, float p1)
                => CallLog.Record("Elementwise.Unary", op, x.Length, y.Length, p0, p1);
            public static void Binary(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y,
                ReadOnlySpan<int> outShape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides)
            {
                CallLog.Record("Elementwise.Binary", op, a.Length, b.Length, y.Length, CallLog.Ints(outShape), CallLog.Ints(aStrides), CallLog.Ints(bStrides));
                // Enough of Add for a test to follow the data: same-length operands only.
                if (op == BinaryOp.Add && a.Length == y.Length && b.Length == y.Length)
                {
                    for (int i = 0; i < y.Length; i++)
                    {
                        y[i] = a[i] + b[i];
                    }
                }
            }
        }

        public static class Normalization
        {
            public static void Softmax(ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner, bool log)
                => CallLog.Record("Normalization.Softmax", x.Length, y.Length, outer, axis, inner, log);
            public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y, int outer, int inner, float epsilon)
                => CallLog.Record("Normalization.LayerNorm", x.Length, scale.Length, bias.Length, y.Length, outer, inner, epsilon);
            public static void ChannelAffine(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y, int n, int c, int spatial)
                => CallLog.Record("Normalization.ChannelAffine", x.Length, scale.Length, shift.Length, y.Length, n, c, spatial);
        }

        public enum ReduceOp { Sum, Mean, Max, Min, Prod, SumSquare, L1, L2, LogSumExp }

        public static class Reduce
        {
            public static void Run(ReduceOp op, ReadOnlySpan<float> x, Span<float> y, int outer, int axis, int inner)
                => CallLog.Record("Reduce.Run", op, x.Length, y.Length, outer, axis, inner);
        }

        public static class Data
        {
            // Real bodies for Copy and StridedCopy (rank <= 8), so a test can follow the data through Run.
            public static void StridedCopy<T>(ReadOnlySpan<T> x, Span<T> y, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides) where T : unmanaged
            {
                if (CallLog.Enabled)
                {
                    CallLog.Record("Data.StridedCopy<" + typeof(T).Name + ">", x.Length, y.Length, offset, CallLog.Ints(shape), CallLog.Ints(strides));
                }
                Span<int> index = stackalloc int[shape.Length];
                for (int i = 0; i < y.Length; i++)
                {
                    int source = offset;
                    for (int d = 0; d < shape.Length; d++)
                    {
                        source += index[d] * strides[d];
                    }
                    y[i] = x[source];
                    for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--)
                    {
                        index[d] = 0;
                    }
                }
            }
            public static void Copy<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
            {
                if (CallLog.Enabled)
                {
                    CallLog.Record("Data.Copy<" + typeof(T).Name + ">", x.Length, y.Length);
                }
                x.CopyTo(y);
            }
            public static void CopyBlocks<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int block, int dstStride, int dstOffset) where T : unmanaged
                => CallLog.Record("Data.CopyBlocks<" + typeof(T).Name + ">", x.Length, y.Length, outer, block, dstStride, dstOffset);
            public static void Gather<T>(ReadOnlySpan<T> data, ReadOnlySpan<long> indices, Span<T> y, int outer, int axis, int inner) where T : unmanaged
                => CallLog.Record("Data.Gather<" + typeof(T).Name + ">", data.Length, indices.Length, y.Length, outer, axis, inner);
            public static void PadConstant(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> padsBegin, float value)
                => CallLog.Record("Data.PadConstant", x.Length, y.Length, CallLog.Ints(inShape), CallLog.Ints(outShape), CallLog.Ints(padsBegin), value);
        }

        public sealed class WeightBlob
        {
            private readonly byte[] _bytes = new byte[1 << 16];

            private WeightBlob() { }

            public static WeightBlob FromResource(Assembly assembly, string name)
            {
                CallLog.Record("WeightBlob.FromResource", assembly.GetName().Name!, name);
                return new WeightBlob();
            }

            public ReadOnlySpan<T> Get<T>(int byteOffset, int count) where T : unmanaged
            {
                CallLog.Record("WeightBlob.Get<" + typeof(T).Name + ">", byteOffset, count);
                return MemoryMarshal.Cast<byte, T>(_bytes.AsSpan(byteOffset)).Slice(0, count);
            }

            public int Length => _bytes.Length;
        }
        """;
}

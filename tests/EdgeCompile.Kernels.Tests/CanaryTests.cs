using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// Out-of-bounds canaries. The kernels index through <c>MemoryMarshal.GetReference</c>/<c>Unsafe.Add</c> and
/// <c>Vector*.LoadUnsafe/StoreUnsafe</c>, which the runtime does not bounds-check. Here every span a kernel gets is a
/// slice of a larger array (at a random misalignment) whose ends are guard cells: NaN around inputs (an
/// out-of-bounds read turns a result into NaN, caught by the comparison with the scalar reference computed on
/// exact-size arrays) and a distinctive NaN bit pattern around outputs (an out-of-bounds write changes it).
/// Every path the machine supports (scalar, Vector128, Vector256) and the public dispatcher run over randomized
/// shapes, ragged tails and empty dimensions included.
/// </summary>
public class CanaryTests
{
    private const int Guard = 40;                               // > one Vector256 (8 floats) past either end, several times over
    private const uint OutputGuardBits = 0x7FA5_A5A5;           // a NaN no kernel produces
    /// <summary>Random shapes per kernel family; EDGE_CANARY_ITERATIONS=N runs longer.</summary>
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("EDGE_CANARY_ITERATIONS"), out int n) && n > 0 ? n : 150;

    /// <summary>A span in the middle of a larger array, guard cells on both sides.</summary>
    private sealed class Guarded
    {
        private readonly float[] _array;
        private readonly int _offset, _length;
        private readonly float _guard;

        private Guarded(int length, int misalign, float guard)
        {
            _array = new float[Guard + misalign + length + Guard];
            _offset = Guard + misalign;
            _length = length;
            _guard = guard;
            _array.AsSpan().Fill(guard);
        }

        public static Guarded Input(ReadOnlySpan<float> data, Random r)
        {
            var g = new Guarded(data.Length, r.Next(0, 8), float.NaN);
            data.CopyTo(g.Span);
            return g;
        }

        /// <summary>Output: guards and interior hold the guard pattern (the interior so unwritten elements show too).</summary>
        public static Guarded Output(int length, Random r) => new(length, r.Next(0, 8), BitConverter.UInt32BitsToSingle(OutputGuardBits));

        public Span<float> Span => _array.AsSpan(_offset, _length);

        public void AssertGuards(string what)
        {
            uint want = BitConverter.SingleToUInt32Bits(_guard);
            for (int i = 0; i < _array.Length; i++)
            {
                if (i >= _offset && i < _offset + _length) continue;
                uint got = BitConverter.SingleToUInt32Bits(_array[i]);
                if (got != want)
                    Assert.Fail($"{what}: {(i < _offset ? "before" : "after")} the span, guard cell {(i < _offset ? _offset - i : i - _offset - _length + 1)} was overwritten (0x{got:X8}).");
            }
        }

        public void AssertAllWritten(string what)
        {
            var s = Span;
            for (int i = 0; i < s.Length; i++)
                if (BitConverter.SingleToUInt32Bits(s[i]) == OutputGuardBits) Assert.Fail($"{what}: output element {i} of {s.Length} was never written.");
        }
    }

    private static IEnumerable<Isa> Paths(bool gemm = false) => new[] { Isa.Scalar }.Concat(gemm ? Check.GemmPaths() : Check.FastPaths());

    /// <summary>Runs <paramref name="run"/> on guarded copies for every path and the dispatcher (null isa), checking guards and results.</summary>
    private static void Canary(Random r, string what, float[][] inputs, int outLength, Action<float[][]> reference,
        Action<Guarded[], Span<float>, Isa?> run, bool exact = false, bool gemm = false)
    {
        var expectedOut = new float[outLength];
        var refInputs = inputs.Select(a => (float[])a.Clone()).ToArray();
        reference([.. refInputs, expectedOut]);
        foreach (var isa in Paths(gemm).Cast<Isa?>().Append(null))
        {
            string label = $"{what} [{(isa?.ToString() ?? "dispatcher")}]";
            var ins = inputs.Select(a => Guarded.Input(a, r)).ToArray();
            var y = Guarded.Output(outLength, r);
            run(ins, y.Span, isa);
            foreach (var g in ins) g.AssertGuards(label + " input");
            y.AssertGuards(label + " output");
            y.AssertAllWritten(label);
            for (int i = 0; i < inputs.Length; i++) Assert.True(inputs[i].AsSpan().SequenceEqual(ins[i].Span), $"{label}: input {i} was modified");
            if (exact) Check.Exact(expectedOut, y.Span, label);
            else Check.Close(expectedOut, y.Span, label, 1e-4f, 1e-4f);
        }
    }

    [Fact]
    public void The_canary_catches_out_of_bounds_writes_and_reads()
    {
        var r = new Random(100);
        float[] x = Check.Data(r, 10);
        var write = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Canary(r, "bad write", [x], 10, v => v[0].CopyTo(v[1], 0),
            (g, y, isa) =>
            {
                g[0].Span.CopyTo(y);
                System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y), 10) = 1f;
            }, exact: true));
        Assert.Contains("after the span", write.Message);
        var read = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Canary(r, "bad read", [x], 10, v => v[0].CopyTo(v[1], 0),
            (g, y, isa) =>
            {
                g[0].Span.CopyTo(y);
                y[9] += 0f * System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(g[0].Span), 10);
            }, exact: true));
        Assert.Contains("element 9", read.Message);
    }

    [Fact]
    public void Conv2D()
    {
        var r = new Random(101);
        for (int it = 0; it < Iterations; it++)
        {
            int group = r.Next(4) == 0 ? r.Next(1, 4) : 1;
            bool depthwise = r.Next(5) == 0;
            int c = depthwise ? r.Next(1, 9) : group * r.Next(1, 5);
            if (depthwise) group = c;
            int k = depthwise ? c : group * r.Next(1, 6);
            int n = r.Next(0, 3) == 0 ? r.Next(0, 3) : 1;
            int kh = depthwise ? 3 : r.Next(1, 4), kw = depthwise ? 3 : r.Next(1, 4);
            int sh = r.Next(1, 3), sw = r.Next(3) == 0 ? 2 : 1, dh = r.Next(4) == 0 ? 2 : 1, dw = r.Next(4) == 0 ? 2 : 1;
            int pt = r.Next(0, 2), pl = r.Next(0, 2), pb = r.Next(0, 2), pr = r.Next(0, 2);
            int h = r.Next(dh * (kh - 1) + 1, 12), width = r.Next(dw * (kw - 1) + 1, 21);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            var act = Check.RandomActivation(r, out float p0, out float p1);
            bool hasBias = r.Next(2) == 0;
            float[] x = Check.Data(r, n * c * h * width), w = Check.Data(r, k * (c / group) * kh * kw), b = hasBias ? Check.Data(r, k) : [];
            string what = $"Conv2D n{n} c{c} {h}x{width} k{k} {kh}x{kw} s{sh},{sw} p{pt},{pl},{pb},{pr} d{dh},{dw} g{group} {act}";
            Canary(r, what, [x, w, b], n * k * oh * ow,
                a => EdgeCompile.Kernels.Conv.Conv2DScalar(a[0], a[1], a[2], a[3], n, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, act, p0, p1),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Conv.Conv2DCore(g[0].Span, g[1].Span, g[2].Span, y, n, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, act, p0, p1, i);
                    else EdgeCompile.Kernels.Conv.Conv2D(g[0].Span, g[1].Span, g[2].Span, y, n, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, act, p0, p1);
                }, gemm: true);
        }
    }

    /// <summary>
    /// Larger shapes than <see cref="Conv2D"/> for the paths whose loops depend on size: im2col (blocks of output
    /// pixels, channel chunks, stride-2 de-interleaving gathers) and the stride-2 depthwise 3x3 vector loops.
    /// </summary>
    [Fact]
    public void Conv2D_large_maps_im2col_and_depthwise_stride2()
    {
        var r = new Random(111);
        for (int it = 0; it < Math.Max(10, Iterations / 5); it++)
        {
            bool depthwise = r.Next(2) == 0;
            int group = depthwise ? 0 : 1;
            int c = depthwise ? r.Next(1, 4) : r.Next(1, 40);
            if (depthwise) group = c;
            int k = depthwise ? c : r.Next(4, 9);
            int kh = depthwise ? 3 : r.Next(1, 8), kw = depthwise ? 3 : r.Next(1, 8);
            int sh = r.Next(1, 3), sw = depthwise ? 2 : r.Next(1, 4), dh = r.Next(4) == 0 ? 2 : 1, dw = r.Next(4) == 0 ? 2 : 1;
            int pt = r.Next(0, 4), pl = r.Next(0, 4), pb = r.Next(0, 4), pr = r.Next(0, 4);
            int h = r.Next(dh * (kh - 1) + 1, 30), width = r.Next(dw * (kw - 1) + 1, 70);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            var act = Check.RandomActivation(r, out float p0, out float p1);
            float[] x = Check.Data(r, c * h * width), w = Check.Data(r, k * (c / group) * kh * kw), b = r.Next(2) == 0 ? Check.Data(r, k) : [];
            string what = $"Conv2D large n1 c{c} {h}x{width} k{k} {kh}x{kw} s{sh},{sw} p{pt},{pl},{pb},{pr} d{dh},{dw} g{group} {act}";
            Canary(r, what, [x, w, b], k * oh * ow,
                a => EdgeCompile.Kernels.Conv.Conv2DScalar(a[0], a[1], a[2], a[3], 1, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, act, p0, p1),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Conv.Conv2DCore(g[0].Span, g[1].Span, g[2].Span, y, 1, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, act, p0, p1, i);
                    else EdgeCompile.Kernels.Conv.Conv2D(g[0].Span, g[1].Span, g[2].Span, y, 1, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group, act, p0, p1);
                }, gemm: true);
        }
    }

    [Fact]
    public void Gemm_Run()
    {
        var r = new Random(102);
        for (int it = 0; it < Iterations; it++)
        {
            // k >= 64 a quarter of the time: the packed paths (Gemm.PackMinDepth).
            int m = r.Next(0, 20), k = r.Next(4) == 0 ? r.Next(64, 300) : r.Next(0, 40), n = r.Next(0, 40);
            bool ta = r.Next(2) == 0, tb = r.Next(2) == 0;
            int cMode = r.Next(4);
            int cRows = cMode switch { 1 => 1, 2 => m, 3 => 1, _ => 0 }, cCols = cMode switch { 1 => 1, 2 => n, 3 => n, _ => 0 };
            float alpha = r.Next(2) == 0 ? 1f : 0.5f, beta = r.Next(2) == 0 ? 1f : -2f;
            var act = Check.RandomActivation(r, out float p0, out float p1);
            float[] a = Check.Data(r, m * k), b = Check.Data(r, k * n), c = Check.Data(r, cRows * cCols);
            Canary(r, $"Gemm m{m} k{k} n{n} tA{ta} tB{tb} c{cRows}x{cCols} {act}", [a, b, c], m * n,
                v => EdgeCompile.Kernels.Gemm.RunScalar(v[0], v[1], v[2], v[3], m, k, n, ta, tb, alpha, beta, cRows, cCols, act, p0, p1),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Gemm.RunCore(g[0].Span, g[1].Span, g[2].Span, y, m, k, n, ta, tb, alpha, beta, cRows, cCols, act, p0, p1, i);
                    else EdgeCompile.Kernels.Gemm.Run(g[0].Span, g[1].Span, g[2].Span, y, m, k, n, ta, tb, alpha, beta, cRows, cCols, act, p0, p1);
                }, gemm: true);
        }
    }

    [Fact]
    public void Gemm_MatMul()
    {
        var r = new Random(103);
        for (int it = 0; it < Iterations; it++)
        {
            int batch = r.Next(0, 4), m = r.Next(0, 12), k = r.Next(0, 30), n = r.Next(0, 30);
            int aStride = r.Next(3) == 0 ? 0 : m * k, bStride = r.Next(3) == 0 ? 0 : k * n;
            int aLen = batch == 0 ? 0 : (batch - 1) * aStride + m * k, bLen = batch == 0 ? 0 : (batch - 1) * bStride + k * n;
            float[] a = Check.Data(r, aLen), b = Check.Data(r, bLen);
            Canary(r, $"MatMul b{batch} m{m} k{k} n{n} strides {aStride},{bStride}", [a, b], batch * m * n,
                v => EdgeCompile.Kernels.Gemm.MatMulScalar(v[0], v[1], v[2], batch, m, k, n, aStride, bStride),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Gemm.MatMulCore(g[0].Span, g[1].Span, y, batch, m, k, n, aStride, bStride, i);
                    else EdgeCompile.Kernels.Gemm.MatMul(g[0].Span, g[1].Span, y, batch, m, k, n, aStride, bStride);
                }, gemm: true);
        }
    }

    [Fact]
    public void Pooling()
    {
        var r = new Random(104);
        for (int it = 0; it < Iterations; it++)
        {
            int n = r.Next(0, 3), c = r.Next(1, 5), kh = r.Next(1, 4), kw = r.Next(1, 4);
            int sh = r.Next(1, 3), sw = r.Next(1, 3), dh = r.Next(3) == 0 ? 2 : 1, dw = r.Next(3) == 0 ? 2 : 1;
            int pt = r.Next(0, kh), pl = r.Next(0, kw), pb = r.Next(0, kh), pr = r.Next(0, kw);
            int h = r.Next(dh * (kh - 1) + 1, 12), width = r.Next(dw * (kw - 1) + 1, 25);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            float[] x = Check.Data(r, n * c * h * width);
            Canary(r, $"MaxPool n{n} c{c} {h}x{width} {kh}x{kw} s{sh},{sw} p{pt},{pl} d{dh},{dw}", [x], n * c * oh * ow,
                v => EdgeCompile.Kernels.Pool.MaxPool2DScalar(v[0], v[1], n, c, h, width, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Pool.MaxPool2DCore(g[0].Span, y, n, c, h, width, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, i);
                    else EdgeCompile.Kernels.Pool.MaxPool2D(g[0].Span, y, n, c, h, width, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw);
                }, exact: true);
            int aoh = (h + pt + pb - kh) / sh + 1, aow = (width + pl + pr - kw) / sw + 1;
            bool include = r.Next(2) == 0;
            Canary(r, $"AveragePool n{n} c{c} {h}x{width} {kh}x{kw} s{sh},{sw} p{pt},{pl},{pb},{pr} inc{include}", [x], n * c * aoh * aow,
                v => EdgeCompile.Kernels.Pool.AveragePool2DScalar(v[0], v[1], n, c, h, width, kh, kw, aoh, aow, sh, sw, pt, pl, pb, pr, include),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Pool.AveragePool2DCore(g[0].Span, y, n, c, h, width, kh, kw, aoh, aow, sh, sw, pt, pl, pb, pr, include, i);
                    else EdgeCompile.Kernels.Pool.AveragePool2D(g[0].Span, y, n, c, h, width, kh, kw, aoh, aow, sh, sw, pt, pl, pb, pr, include);
                });
            int channels = r.Next(0, 12), spatial = r.Next(0, 70);
            float[] gx = Check.Data(r, channels * spatial);
            foreach (bool max in new[] { false, true })
                Canary(r, $"Global{(max ? "Max" : "Average")} {channels}x{spatial}", [gx], channels,
                    v => EdgeCompile.Kernels.Pool.GlobalScalar(v[0], v[1], channels, spatial, max),
                    (g, y, isa) =>
                    {
                        if (isa is { } i) EdgeCompile.Kernels.Pool.GlobalCore(g[0].Span, y, channels, spatial, max, i);
                        else if (max) EdgeCompile.Kernels.Pool.GlobalMax(g[0].Span, y, channels, spatial);
                        else EdgeCompile.Kernels.Pool.GlobalAverage(g[0].Span, y, channels, spatial);
                    });
        }
    }

    [Fact]
    public void Normalization()
    {
        var r = new Random(105);
        for (int it = 0; it < Iterations; it++)
        {
            int outer = r.Next(0, 5), axis = r.Next(1, 40), inner = r.Next(3) == 0 ? 1 : r.Next(1, 11);
            bool log = r.Next(2) == 0;
            float[] x = Check.Data(r, outer * axis * inner, -4f, 4f);
            Canary(r, $"Softmax {outer}x{axis}x{inner} log{log}", [x], x.Length,
                v => EdgeCompile.Kernels.Normalization.SoftmaxScalar(v[0], v[1], outer, axis, inner, log),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Normalization.SoftmaxCore(g[0].Span, y, outer, axis, inner, log, i);
                    else EdgeCompile.Kernels.Normalization.Softmax(g[0].Span, y, outer, axis, inner, log);
                });
            int rows = r.Next(0, 6), cols = r.Next(1, 50);
            float[] lx = Check.Data(r, rows * cols), scale = Check.Data(r, cols), bias = r.Next(2) == 0 ? Check.Data(r, cols) : [];
            Canary(r, $"LayerNorm {rows}x{cols} bias{bias.Length > 0}", [lx, scale, bias], rows * cols,
                v => EdgeCompile.Kernels.Normalization.LayerNormScalar(v[0], v[1], v[2], v[3], rows, cols, 1e-5f),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Normalization.LayerNormCore(g[0].Span, g[1].Span, g[2].Span, y, rows, cols, 1e-5f, i);
                    else EdgeCompile.Kernels.Normalization.LayerNorm(g[0].Span, g[1].Span, g[2].Span, y, rows, cols, 1e-5f);
                });
            int bn = r.Next(0, 3), bc = r.Next(1, 6), sp = r.Next(0, 40);
            float[] ax = Check.Data(r, bn * bc * sp), sc = Check.Data(r, bc), sh = Check.Data(r, bc);
            Canary(r, $"ChannelAffine {bn}x{bc}x{sp}", [ax, sc, sh], ax.Length,
                v => EdgeCompile.Kernels.Normalization.ChannelAffineScalar(v[0], v[1], v[2], v[3], bn, bc, sp),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Normalization.ChannelAffineCore(g[0].Span, g[1].Span, g[2].Span, y, bn, bc, sp, i);
                    else EdgeCompile.Kernels.Normalization.ChannelAffine(g[0].Span, g[1].Span, g[2].Span, y, bn, bc, sp);
                }, exact: true);
        }
    }

    [Fact]
    public void Reduce()
    {
        var r = new Random(106);
        for (int it = 0; it < Iterations * 2; it++)
        {
            var op = (ReduceOp)r.Next(0, 9);
            int outer = r.Next(0, 5), axis = r.Next(1, 40), inner = r.Next(3) == 0 ? 1 : r.Next(1, 13);
            float[] x = Check.Data(r, outer * axis * inner, op == ReduceOp.Prod ? 0.9f : -1f, op == ReduceOp.Prod ? 1.1f : 1f);
            Canary(r, $"Reduce {op} {outer}x{axis}x{inner}", [x], outer * inner,
                v => EdgeCompile.Kernels.Reduce.RunScalar(op, v[0], v[1], outer, axis, inner),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Reduce.RunCore(op, g[0].Span, y, outer, axis, inner, i);
                    else EdgeCompile.Kernels.Reduce.Run(op, g[0].Span, y, outer, axis, inner);
                });
        }
    }

    [Fact]
    public void Elementwise()
    {
        var r = new Random(107);
        var unaries = Enum.GetValues<UnaryOp>();
        for (int it = 0; it < Iterations * 2; it++)
        {
            var op = unaries[r.Next(unaries.Length)];
            int len = r.Next(0, 70);
            bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Reciprocal;
            float[] x = Check.Data(r, len, positive ? 0.1f : -2f, 2f);
            Canary(r, $"Unary {op} {len}", [x], len,
                v => EdgeCompile.Kernels.Elementwise.UnaryReference(op, v[0], v[1], 0.2f, 0.7f),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Elementwise.UnaryCore(op, g[0].Span, y, 0.2f, 0.7f, i);
                    else EdgeCompile.Kernels.Elementwise.Unary(op, g[0].Span, y, 0.2f, 0.7f);
                });
        }
        var binaries = Enum.GetValues<BinaryOp>();
        for (int it = 0; it < Iterations * 2; it++)
        {
            var op = binaries[r.Next(binaries.Length)];
            int rank = r.Next(0, 5);
            var shape = new int[rank];
            for (int d = 0; d < rank; d++) shape[d] = r.Next(0, 4) == 0 ? 1 : r.Next(1, 9);
            if (r.Next(10) == 0 && rank > 0) shape[r.Next(rank)] = 0;
            // Each operand broadcasts along a random subset of dims: stride 0 there, contiguous otherwise.
            int[] Strides(out int length)
            {
                var s = new int[rank];
                int acc = 1;
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (r.Next(3) == 0) { s[d] = 0; continue; }
                    s[d] = acc; acc *= shape[d];
                }
                length = shape.Contains(0) ? 0 : acc;
                return s;
            }
            int[] sa = Strides(out int la), sb = Strides(out int lb);
            float[] a = Check.Data(r, la, 0.5f, 2f), b = Check.Data(r, lb, 0.5f, 2f);
            int total = shape.Aggregate(1, (p, d) => p * d);
            Canary(r, $"Binary {op} [{string.Join(",", shape)}] a[{string.Join(",", sa)}] b[{string.Join(",", sb)}]", [a, b], total,
                v => EdgeCompile.Kernels.Elementwise.BinaryScalarReference(op, v[0], v[1], v[2], shape, sa, sb),
                (g, y, isa) =>
                {
                    if (isa is { } i) EdgeCompile.Kernels.Elementwise.BinaryCore(op, g[0].Span, g[1].Span, y, shape, sa, sb, i);
                    else EdgeCompile.Kernels.Elementwise.Binary(op, g[0].Span, g[1].Span, y, shape, sa, sb);
                }, exact: op != BinaryOp.Pow);
        }
    }

    [Fact]
    public void Data()
    {
        var r = new Random(108);
        for (int it = 0; it < Iterations * 2; it++)
        {
            // StridedCopy: a random transpose/slice of a random tensor (positive and negative steps).
            int rank = r.Next(1, 5);
            var src = Enumerable.Range(0, rank).Select(_ => r.Next(1, 7)).ToArray();
            var srcStrides = new int[rank];
            for (int d = rank - 1, acc = 1; d >= 0; acc *= src[d], d--) srcStrides[d] = acc;
            var shape = new int[rank];
            var strides = new int[rank];
            int offset = 0;
            var perm = Enumerable.Range(0, rank).OrderBy(_ => r.Next()).ToArray();
            for (int d = 0; d < rank; d++)
            {
                int sd = perm[d];
                int step = r.Next(1, 3) * (r.Next(3) == 0 ? -1 : 1);
                int count = (src[sd] - 1) / Math.Abs(step) + 1;
                shape[d] = r.Next(8) == 0 ? 0 : r.Next(1, count + 1);
                strides[d] = step * srcStrides[sd];
                if (step < 0) offset += (src[sd] - 1) * srcStrides[sd];
            }
            float[] x = Check.Data(r, src.Aggregate(1, (p, d) => p * d));
            int total = shape.Aggregate(1, (p, d) => p * d);
            Canary(r, $"StridedCopy src[{string.Join(",", src)}] shape[{string.Join(",", shape)}] strides[{string.Join(",", strides)}] @{offset}", [x], total,
                v => EdgeCompile.Kernels.Data.StridedCopyScalar<float>(v[0], v[1], offset, shape, strides),
                (g, y, isa) =>
                {
                    if (isa == Isa.Scalar) EdgeCompile.Kernels.Data.StridedCopyScalar<float>(g[0].Span, y, offset, shape, strides);
                    else if (isa is not null) EdgeCompile.Kernels.Data.StridedCopyFast<float>(g[0].Span, y, offset, shape, strides);
                    else EdgeCompile.Kernels.Data.StridedCopy<float>(g[0].Span, y, offset, shape, strides);
                }, exact: true);

            int outer = r.Next(0, 5), block = r.Next(0, 9), dstOffset = r.Next(0, 5), dstStride = dstOffset + block + r.Next(0, 4);
            float[] bx = Check.Data(r, outer * block);
            float[] Blocks(float[] input, Span<float> y)
            {
                y.Fill(7f); // CopyBlocks writes only its columns: pre-fill so every element is defined
                EdgeCompile.Kernels.Data.CopyBlocks<float>(input, y, outer, block, dstStride, dstOffset);
                return input;
            }
            Canary(r, $"CopyBlocks {outer}x{block} into stride {dstStride} at {dstOffset}", [bx], outer * dstStride,
                v => Blocks(v[0], v[1]),
                (g, y, isa) =>
                {
                    y.Fill(7f);
                    EdgeCompile.Kernels.Data.CopyBlocks<float>(g[0].Span, y, outer, block, dstStride, dstOffset);
                }, exact: true);

            int go = r.Next(0, 4), ga = r.Next(1, 8), gi = r.Next(0, 6), count2 = r.Next(0, 10);
            var indices = Enumerable.Range(0, count2).Select(_ => (long)r.Next(-ga, ga)).ToArray();
            float[] gd = Check.Data(r, go * ga * gi);
            Canary(r, $"Gather {go}x{ga}x{gi} idx {count2}", [gd], go * count2 * gi,
                v => EdgeCompile.Kernels.Data.GatherScalar<float>(v[0], indices, v[1], go, ga, gi),
                (g, y, isa) =>
                {
                    if (isa is Isa.Scalar) EdgeCompile.Kernels.Data.GatherScalar<float>(g[0].Span, indices, y, go, ga, gi);
                    else EdgeCompile.Kernels.Data.Gather<float>(g[0].Span, indices, y, go, ga, gi);
                }, exact: true);

            int prank = r.Next(1, 4);
            var inShape = Enumerable.Range(0, prank).Select(_ => r.Next(0, 6)).ToArray();
            var pads = Enumerable.Range(0, prank).Select(_ => r.Next(-2, 3)).ToArray();
            var outShape = inShape.Select((d, i) => Math.Max(0, d + pads[i] + r.Next(-2, 3))).ToArray();
            float[] px = Check.Data(r, inShape.Aggregate(1, (p, d) => p * d));
            Canary(r, $"PadConstant [{string.Join(",", inShape)}] -> [{string.Join(",", outShape)}] at [{string.Join(",", pads)}]", [px], outShape.Aggregate(1, (p, d) => p * d),
                v => EdgeCompile.Kernels.Data.PadConstantScalar(v[0], v[1], inShape, outShape, pads, -3f),
                (g, y, isa) =>
                {
                    if (isa == Isa.Scalar) EdgeCompile.Kernels.Data.PadConstantScalar(g[0].Span, y, inShape, outShape, pads, -3f);
                    else if (isa is not null) EdgeCompile.Kernels.Data.PadConstantFast(g[0].Span, y, inShape, outShape, pads, -3f);
                    else EdgeCompile.Kernels.Data.PadConstant(g[0].Span, y, inShape, outShape, pads, -3f);
                }, exact: true);
        }
    }
}

using EdgeCompile.Kernels;

namespace EdgeCompile.Int8.Checks;

/// <summary>A failed check (the console self-test and xunit both report its message).</summary>
public sealed class CheckFailed(string message) : Exception(message);

/// <summary>
/// The int8 kernel checks, shared by the xunit project and the console self-test (linked source): every vector path
/// bit-exact against the scalar reference over random shapes with ragged tails and extreme values, the scalar
/// references against naive formulas, the int32 overflow bound, and zero allocation.
/// </summary>
public static partial class Int8Checks
{
    /// <summary>Every check by name.</summary>
    public static readonly (string Name, Action Run)[] All =
    [
        ("RoundingShift and QuantizeMultiplier", RoundingShiftCases),
        ("Requantize vector paths", RequantizeBlock),
        ("Requantize AVX2 one channel (UniformAvx2) and per lane, ties at every n", RequantizeUniform),
        ("Requantize AVX2 one channel, double form under an accumulator bound (UniformAvx2)", RequantizeDouble),
        ("Requantize AVX2 conv tile epilogue, double form, 1-8 channels (StoreBlockDoubleAvx2)", RequantizeDoubleBlock),
        ("QGemm u8 output", () => Gemm(Output.U8)),
        ("QGemm int32 output", () => Gemm(Output.I32)),
        ("QGemm dequantized float output", () => Gemm(Output.F32)),
        ("QGemm u8 output, m >= 16", () => Gemm(Output.U8, large: true)),
        ("QGemm int32 output, m >= 16", () => Gemm(Output.I32, large: true)),
        ("QGemm dequantized float output, m >= 16", () => Gemm(Output.F32, large: true)),
        ("QGemm overflow bound k = MaxK", GemmOverflowBound),
        ("QGemm/QConv weight layout mismatch throws", LayoutMismatch),
        ("Requantization constants validated in every lane", ValidateConstants),
        ("QConv.Conv2D", Conv2D),
        ("QConv.Conv2D large shapes", Conv2DLarge),
        ("QConv.Conv2D exact-pixel tiles (small maps, ResNet-18's 7x7 to 28x28)", Conv2DExactPixels),
        ("QConv tail micro-kernel (1-4 pixels, channels in the lanes)", ConvTailKernel),
        ("QConv window rows of stride phases", ConvStridedRow),
        ("QConv.DepthwiseConv3x3", Depthwise),
        ("QConv.DepthwiseConv3x3 model shapes", DepthwiseLarge),
        ("QConv.DepthwiseConv3x3 edge sizes and many channels", DepthwiseEdges),
        ("QConv.DepthwiseConv5x5", Depthwise5x5),
        ("QConv.DepthwiseConv5x5 model shapes, bands and edge sizes", Depthwise5x5Shapes),
        ("QConv.Conv2DParallel parts = serial", ConvParallel),
        ("QConv.DepthwiseConv3x3Parallel/5x5Parallel parts = serial", DepthwiseParallel),
        ("QConv parallel public entries = serial, allocation-free", ParallelEntries),
        ("QElementwise.Add", Add),
        ("QElementwise.Mul", Mul),
        ("QPool.MaxPool2D", () => Pool(max: true)),
        ("QPool.AveragePool2D", () => Pool(max: false)),
        ("QPool.MaxPool2D model shapes and wide rows", MaxPoolShapes),
        ("QPool.GlobalAveragePool", GlobalPool),
        ("QLinear quantize/dequantize", QuantizeDequantize),
        ("QLinear.QuantizeRowsDynamic", Dynamic),
        ("QLinear.DequantizeChannels", DequantizeChannels),
        ("zero allocation", ZeroAllocation),
    ];

    /// <summary>The vector paths this machine runs (the scalar reference always runs).</summary>
    internal static QIsa[] VectorPaths() => [.. new[] { QIsa.Avx2, QIsa.AdvSimd, QIsa.AdvSimdDot }.Where(QPaths.IsSupported)];

    /// <summary>"scalar, AVX2" etc.</summary>
    public static string PathNames() => string.Join(", ", new[] { "scalar" }.Concat(VectorPaths().Select(p => p switch
    {
        QIsa.Avx2 => "AVX2", QIsa.AdvSimd => "AdvSimd", QIsa.AdvSimdDot => "Dp", _ => p.ToString(),
    })));

    private static void Fail(string what) => throw new CheckFailed(what);

    private static void Same<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what) where T : IEquatable<T>
    {
        if (expected.Length != actual.Length) Fail($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (!expected[i].Equals(actual[i])) Fail($"{what}: element {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static void SameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i])) Fail($"{what}: element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    /// <summary>u8 data, a quarter of it at the extremes 0 and 255.</summary>
    private static byte[] Bytes(Random r, int n)
    {
        var a = new byte[n];
        for (int i = 0; i < n; i++) a[i] = (r.Next(4)) switch { 0 => 0, 1 => 255, _ => (byte)r.Next(256) };
        return a;
    }

    /// <summary>s8 weights in [-127, 127], some at the extremes.</summary>
    private static sbyte[] Weights(Random r, int n)
    {
        var w = new sbyte[n];
        for (int i = 0; i < n; i++) w[i] = (r.Next(4)) switch { 0 => -127, 1 => 127, _ => (sbyte)r.Next(-127, 128) };
        return w;
    }

    private static int Zero(Random r) => r.Next(4) switch { 0 => 0, 1 => 255, _ => r.Next(256) };

    private static int Multiplier(Random r) => r.Next(10) == 0 ? 0 : (1 << 30) + r.Next(1 << 30);

    /// <summary>A shift that keeps outputs interesting for an accumulator of magnitude about 'range', sometimes an extreme.</summary>
    private static int Shift(Random r, long range)
    {
        if (r.Next(8) == 0) return r.Next(2) == 0 ? Requantization.MinShift : Requantization.MaxShift;
        int bits = 0; while ((1L << bits) < Math.Max(range, 1)) bits++;
        return Math.Clamp(bits - 8 + r.Next(-2, 3), Requantization.MinShift, Requantization.MaxShift);
    }

    private static (int Lo, int Hi) Range(Random r, int zOut) => r.Next(3) switch
    {
        0 => (0, 255),
        1 => (zOut, 255),                                     // fused ReLU
        _ => (Math.Min(zOut, 10), Math.Max(zOut, 200)),       // fused clip
    };

    // ---------------------------------------------------------------- requantization

    private static void RoundingShiftCases()
    {
        (long V, int N, long Expected)[] cases =
        [
            (5, 1, 2), (7, 1, 4), (-5, 1, -2), (-7, 1, -4), (6, 2, 2), (10, 2, 2), (-6, 2, -2), (-10, 2, -2), (11, 2, 3), (-11, 2, -3),
            (123, 0, 123), (-123, 0, -123), (1L << 61, 61, 1), (3L << 60, 61, 2), (-(3L << 60), 61, -2), ((1L << 62) - 1, 61, 2),
        ];
        foreach (var (v, n, e) in cases)
            if (Requantization.RoundingShift(v, n) != e) Fail($"RoundingShift({v}, {n}) = {Requantization.RoundingShift(v, n)}, expected {e}");
        foreach (double scale in new[] { 1.0, 0.5, 0.75, 1e-3, 3.9e-9, 1234.5, 0.0123 })
        {
            int m = Requantization.QuantizeMultiplier(scale, out int sh);
            double back = m * Math.Pow(2, -(31 + sh));
            if (m < 1 << 30 || Math.Abs(back - scale) > scale * 1e-9) Fail($"QuantizeMultiplier({scale}) = {m}, {sh} -> {back}");
        }
        if (Requantization.Requantize(100, 1 << 30, -1, 128, 0, 255) != 228) Fail("identity requantization");
        if (Requantization.Requantize(int.MinValue, int.MaxValue, -31, 0, 0, 255) != 0) Fail("saturation low");
        if (Requantization.Requantize(int.MaxValue, int.MaxValue, -31, 0, 0, 255) != 255) Fail("saturation high");
    }

    private static void RequantizeBlock()
    {
        var r = new Random(1);
        int[] acc = new int[8], mult = new int[8], sh = new int[8];
        byte[] expected = new byte[8], actual = new byte[8];
        for (int it = 0; it < 3000; it++)
        {
            for (int j = 0; j < 8; j++)
            {
                acc[j] = r.Next(6) switch { 0 => int.MinValue, 1 => int.MaxValue, 2 => r.Next(-300, 300), _ => r.Next(int.MinValue, int.MaxValue) };
                mult[j] = r.Next(8) == 0 ? int.MaxValue : Multiplier(r);
                sh[j] = r.Next(Requantization.MinShift, Requantization.MaxShift + 1);
                if (r.Next(4) == 0) { sh[j] = -1 - r.Next(4); acc[j] = r.Next(-1000, 1000); }   // exercise exact ties
            }
            int z = Zero(r); var (lo, hi) = Range(r, z);
            QGemm.RequantizeBlock(QIsa.Scalar, acc, mult, sh, z, lo, hi, expected);
            for (int j = 0; j < 8; j++)
                if (expected[j] != Requantization.Requantize(acc[j], mult[j], sh[j], z, lo, hi)) Fail("scalar block");
            foreach (var p in VectorPaths())
            {
                QGemm.RequantizeBlock(p, acc, mult, sh, z, lo, hi, actual);
                Same<byte>(expected, actual, $"{p} requantize (acc {string.Join(",", acc)}, mult {string.Join(",", mult)}, shift {string.Join(",", sh)}, z {z}, [{lo},{hi}])");
            }
        }
    }

    /// <summary>An exact tie at bit n: acc * mult = (odd) * 2^(n-1) modulo 2^n, for n in [1, 61] and odd acc factor <paramref name="odd"/>.</summary>
    internal static (int Acc, int Mult) Tie(int n, int odd)
    {
        if (n <= 30) return (odd, (1 << 30) + (1 << (n - 1)));                  // (2^30 + 2^(n-1)) * odd: 2^30 is 0 mod 2^n
        long acc = (long)odd << (n - 31);                                        // odd * 2^(n-31) * 2^30 = odd * 2^(n-1)
        if (acc < int.MinValue || acc > int.MaxValue) acc = (odd < 0 ? -1L : 1L) << (n - 31);    // +-2^(n-31) fits: n <= 61
        return ((int)acc, 1 << 30);
    }

    /// <summary>The per-channel AVX2 requantization (<c>UniformAvx2</c>: fast for shift &gt;= 0, general otherwise) and the
    /// per-lane <c>RequantizeAvx2</c> against the scalar scheme on extreme and random accumulators, multipliers, every shift,
    /// and exact ties at every n.</summary>
    private static void RequantizeUniform()
    {
        if (!QPaths.IsSupported(QIsa.Avx2)) return;   // x64 AVX2 only: nothing else runs this code
        var r = new Random(12);
        int[] accs = [int.MinValue, int.MinValue + 1, -1, 0, 1, int.MaxValue, int.MaxValue - 1, 1 << 30, -(1 << 30)];
        var acc = new int[8]; var got = new int[8]; var bytes = new byte[8]; var mults = new int[8]; var shifts = new int[8];
        for (int shift = Requantization.MinShift; shift <= Requantization.MaxShift; shift++)
            foreach (int mult0 in new[] { 0, 1 << 30, int.MaxValue, (1 << 30) + r.Next(1 << 30), -1 })
                for (int it = 0; it < 12; it++)
                {
                    int mult = mult0;
                    if (mult0 == -1)
                    {
                        // exact ties at n = 31 + shift (n = 0 has none), both parities of the quotient, both signs
                        int n = 31 + shift;
                        if (n == 0) continue;
                        for (int i = 0; i < 8; i++) (acc[i], mult) = Tie(n, (2 * (r.Next(-40, 40) + i) + 1) * (i % 2 == 0 ? 1 : -1));
                    }
                    else
                        for (int i = 0; i < 8; i++) acc[i] = it < 2 ? accs[(i + it * 8) % accs.Length] : r.Next(3) == 0 ? accs[r.Next(accs.Length)] : r.Next(int.MinValue, int.MaxValue);
                    int z = Zero(r); var (lo, hi) = Range(r, z);
                    QGemm.RequantizeUniformForTest(acc, mult, shift, z, lo, hi, got);
                    for (int i = 0; i < 8; i++)
                    {
                        int e = Requantization.Requantize(acc[i], mult, shift, z, lo, hi);
                        if (got[i] != e)
                            Fail($"UniformAvx2 acc={acc[i]} mult={mult} shift={shift} z={z} [{lo}, {hi}]: expected {e}, got {got[i]}");
                    }
                    // per-lane form: the same accumulators with this shift/multiplier in some lanes, others random
                    for (int i = 0; i < 8; i++)
                    {
                        bool same = r.Next(2) == 0;
                        mults[i] = same ? mult : Multiplier(r);
                        shifts[i] = same ? shift : r.Next(Requantization.MinShift, Requantization.MaxShift + 1);
                    }
                    QGemm.RequantizeBlock(QIsa.Avx2, acc, mults, shifts, z, lo, hi, bytes);
                    for (int i = 0; i < 8; i++)
                    {
                        int e = Requantization.Requantize(acc[i], mults[i], shifts[i], z, lo, hi);
                        if (bytes[i] != e) Fail($"RequantizeAvx2 acc={acc[i]} mult={mults[i]} shift={shifts[i]} z={z} [{lo}, {hi}]: expected {e}, got {bytes[i]}");
                    }
                }
    }

    // ---------------------------------------------------------------- GEMM

    private enum Output { U8, I32, F32 }

    /// <param name="large">m >= 16 (the AVX2 blocked path: row tiles, ragged 16-row blocks), k up to 700, and some k too
    /// large for its stack scratch (the row path).</param>
    private static void Gemm(Output output, bool large = false)
    {
        var r = new Random(2 + (int)output + (large ? 10 : 0));
        for (int it = 0; it < (large ? 24 : 60); it++)
        {
            int m = large ? r.Next(16, 230) : r.Next(1, 6), k = large ? r.Next(1, 700) : r.Next(1, 75), n = r.Next(1, 21);
            if (large && it % 6 == 1) k = r.Next(1, 4);   // k = 1..3: one k-pair or two, no 16-wide transposition step
            if (it % 10 == 0) k = r.Next(100, 300);
            if (large && it % 4 == 3) k = r.Next(2000, 2600);
            var a = Bytes(r, m * k); var w = Weights(r, n * k);
            var packed = new sbyte[QGemm.PackedLength(n, k)];
            QGemm.PackWeights(w, packed, n, k);
            // The same weights without the per-block sums (QWeightLayout.N8K4): 32 bytes less per 8 channels, same results on every path.
            var packedNs = new sbyte[QGemm.PackedLength(n, k, QWeightLayout.N8K4)];
            QGemm.PackWeights(w, packedNs, n, k, QWeightLayout.N8K4);
            if (packedNs.Length != packed.Length - (n + 7) / 8 * 32) Fail($"N8K4 length {packedNs.Length} for n={n} k={k}");
            int az = Zero(r);
            var bias = r.Next(3) == 0 ? [] : Enumerable.Range(0, n).Select(_ => r.Next(-100000, 100000)).ToArray();
            bool perChannel = r.Next(2) == 0;
            var mult = Enumerable.Range(0, perChannel ? n : 1).Select(_ => Multiplier(r)).ToArray();
            var sh = Enumerable.Range(0, perChannel ? n : 1).Select(_ => Shift(r, 255L * 127 * k / 4)).ToArray();
            int z = Zero(r); var (lo, hi) = Range(r, z);
            // per-row activation parameters for the dynamic variant
            int[] azs = r.Next(2) == 0 ? [az] : Enumerable.Range(0, m).Select(_ => Zero(r)).ToArray();
            float[] ascale = azs.Select(_ => (float)(r.NextDouble() * 0.1 + 1e-3)).ToArray();
            float[] wscale = Enumerable.Range(0, r.Next(2) == 0 ? 1 : n).Select(_ => (float)(r.NextDouble() * 0.01 + 1e-4)).ToArray();
            float[] biasF = r.Next(2) == 0 ? [] : Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            string shape = $"m={m} k={k} n={n} aZero={az}";

            Array Run(QIsa p, bool? wideTile = null, QWeightLayout layout = QWeightLayout.N8K4Sums)
            {
                var pw = layout == QWeightLayout.N8K4 ? packedNs : packed;
                switch (output)
                {
                    case Output.U8: { var y = new byte[m * n]; QGemm.Core(p, a, az, default, default, pw, bias, default, m, k, n, mult, sh, default, z, lo, hi, y, default, default, wideTile, layout); return y; }
                    case Output.I32: { var y = new int[m * n]; QGemm.Core(p, a, az, default, default, pw, bias, default, m, k, n, default, default, default, 0, 0, 0, default, y, default, wideTile, layout); return y; }
                    default: { var y = new float[m * n]; QGemm.Core(p, a, 0, azs, ascale, pw, default, biasF, m, k, n, default, default, wscale, 0, 0, 0, default, default, y, wideTile, layout); return y; }
                }
            }
            var expected = Run(QIsa.Scalar);
            // the scalar reference against the formula on unpacked weights
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    int zi = output == Output.F32 ? azs[azs.Length == 1 ? 0 : i] : az;
                    int acc = 0;
                    for (int kk = 0; kk < k; kk++) acc += (a[i * k + kk] - zi) * w[j * k + kk];
                    if (output == Output.F32)
                    {
                        float f = (float)acc * ascale[azs.Length == 1 ? 0 : i] * wscale[wscale.Length == 1 ? 0 : j] + (biasF.Length == 0 ? 0 : biasF[j]);
                        if (BitConverter.SingleToInt32Bits(f) != BitConverter.SingleToInt32Bits(((float[])expected)[i * n + j])) Fail($"QGemm F32 scalar vs formula {shape} at {i},{j}");
                        continue;
                    }
                    acc += bias.Length == 0 ? 0 : bias[j];
                    if (output == Output.I32) { if (((int[])expected)[i * n + j] != acc) Fail($"QGemm I32 scalar vs formula {shape}"); continue; }
                    int pi = perChannel ? j : 0;
                    if (((byte[])expected)[i * n + j] != Requantization.Requantize(acc, mult[pi], sh[pi], z, lo, hi)) Fail($"QGemm U8 scalar vs formula {shape}");
                }
            // AVX2 with m >= 16: both micro-kernel tilings, whichever this machine selects (3 blocks of 8 rows + single blocks, or single blocks).
            // Every path also reads the no-sums layout (on a dot-product CPU, QIsa.AdvSimdDot then runs the AdvSimd path).
            foreach (var (p, wide, layout) in new[] { QIsa.Scalar }.Concat(VectorPaths())
                .SelectMany(p => p == QIsa.Avx2 && large ? new (QIsa, bool?)[] { (p, null), (p, true), (p, false) } : [(p, null)])
                .SelectMany(pw => new[] { (pw.Item1, pw.Item2, QWeightLayout.N8K4Sums), (pw.Item1, pw.Item2, QWeightLayout.N8K4) })
                .Where(t => t.Item1 != QIsa.Scalar || t.Item3 == QWeightLayout.N8K4))
            {
                var actual = Run(p, wide, layout);
                string what = $"{p}{(wide is null ? "" : wide.Value ? " wide tile" : " narrow tile")} {layout} QGemm {shape}";
                switch (output)
                {
                    case Output.U8: Same<byte>((byte[])expected, (byte[])actual, what); break;
                    case Output.I32: Same<int>((int[])expected, (int[])actual, what); break;
                    default: SameBits((float[])expected, (float[])actual, what); break;
                }
            }
        }
    }

    private static void GemmOverflowBound()
    {
        int m = 2, k = QGemm.MaxK, n = 9;
        var a = new byte[m * k];
        Array.Fill(a, (byte)255, 0, k);                     // row 0: 255 - 0 = 255; row 1: 0 - 255 = -255
        var w = new sbyte[n * k];
        Array.Fill(w, (sbyte)127);
        for (int kk = 0; kk < k; kk++) w[8 * k + kk] = -127; // channel 8 (ragged block): negative
        var packed = new sbyte[QGemm.PackedLength(n, k)];
        QGemm.PackWeights(w, packed, n, k);
        int[] bias = new int[n]; bias[0] = int.MaxValue - 255 * 127 * k;   // the largest bias that still fits
        long bound = 255L * 127 * k;
        if (bound > int.MaxValue) Fail("MaxK bound");
        foreach (var p in new[] { QIsa.Scalar }.Concat(VectorPaths()))
        {
            // aZero = 0 for row 0 needs a separate call from aZero = 255 for row 1
            var y0 = new int[n]; var y1 = new int[n];
            QGemm.Core(p, a.AsSpan(0, k), 0, default, default, packed, bias, default, 1, k, n, default, default, default, 0, 0, 0, default, y0, default);
            QGemm.Core(p, a.AsSpan(k, k), 255, default, default, packed, default, default, 1, k, n, default, default, default, 0, 0, 0, default, y1, default);
            if (y0[0] != int.MaxValue || y0[1] != bound || y0[8] != -bound) Fail($"{p} overflow bound row 0: {y0[0]}, {y0[1]}, {y0[8]}");
            if (y1[1] != -bound || y1[8] != bound) Fail($"{p} overflow bound row 1: {y1[1]}, {y1[8]}");
            var q = new byte[n];
            QGemm.Core(p, a.AsSpan(0, k), 0, default, default, packed, bias, default, 1, k, n, [1 << 30], [24], default, 128, 0, 255, q, default, default);
            long step = Requantization.RoundingShift(bound << 30, 55);   // about 64
            if (q[1] != 128 + step || q[8] != 128 - step || q[0] != 128 + Requantization.RoundingShift((long)int.MaxValue << 30, 55)) Fail($"{p} overflow bound requantized: {q[1]}, {q[8]}");
        }
    }

    /// <summary>Weights packed in one layout and declared as the other (or an undefined layout) are an ArgumentException naming
    /// packedW (or layout), whatever path this machine runs: never a silent read of the wrong bytes.</summary>
    private static void LayoutMismatch()
    {
        var r = new Random(21);
        int m = 1, k = 20, n = 10;
        var a = Bytes(r, m * k); var w = Weights(r, n * k);
        var sums = new sbyte[QGemm.PackedLength(n, k)]; QGemm.PackWeights(w, sums, n, k);
        var noSums = new sbyte[QGemm.PackedLength(n, k, QWeightLayout.N8K4)]; QGemm.PackWeights(w, noSums, n, k, QWeightLayout.N8K4);
        var y = new byte[m * n];
        void Expect(string what, string param, Action run)
        {
            try { run(); }
            catch (ArgumentException e) when (e.ParamName == param) { return; }
            catch (Exception e) { Fail($"{what}: {e.GetType().Name} ({(e as ArgumentException)?.ParamName}): {e.Message}"); }
            Fail($"{what}: no exception");
        }
        Expect("QGemm.Run N8K4Sums weights declared N8K4", "packedW", () => QGemm.Run(a, 3, sums, default, y, m, k, n, OneMult, OneShift, 0, 0, 255, QWeightLayout.N8K4));
        Expect("QGemm.Run N8K4 weights declared N8K4Sums", "packedW", () => QGemm.Run(a, 3, noSums, default, y, m, k, n, OneMult, OneShift, 0, 0, 255, QWeightLayout.N8K4Sums));
        Expect("QGemm.RunInt32 mismatch", "packedW", () => QGemm.RunInt32(a, 3, noSums, default, new int[m * n], m, k, n));
        Expect("QGemm.RunDequantized mismatch", "packedW", () => QGemm.RunDequantized(a, [3], [0.1f], sums, [0.1f], default, new float[m * n], m, k, n, QWeightLayout.N8K4));
        Expect("QGemm.Run undefined layout", "layout", () => QGemm.Run(a, 3, sums, default, y, m, k, n, OneMult, OneShift, 0, 0, 255, (QWeightLayout)7));
        Expect("QGemm.PackWeights length of the other layout", "packed", () => QGemm.PackWeights(w, sums, n, k, QWeightLayout.N8K4));
        var cw = Weights(r, 8 * 2 * 9);
        var cSums = new sbyte[QConv.PackedLength(8, 2, 3, 3, 1)]; QConv.PackWeights(cw, cSums, 8, 2, 3, 3, 1);
        var x = Bytes(r, 2 * 5 * 5); var yc = new byte[8 * 5 * 5];
        var scratch = new byte[QConv.ScratchLength(2, 5, 5, 8, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1, 1)];
        Expect("QConv.Conv2D N8K4Sums weights declared N8K4", "packedW", () => QConv.Conv2D(x, 7, cSums, default, yc, scratch, 1, 2, 5, 5, 8, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1, 1,
            OneMult, OneShift, 0, 0, 255, QWeightLayout.N8K4));
    }

    /// <summary>Per-channel multipliers and shifts are checked 8 at a time on AVX2: a bad value in any lane (and in the scalar
    /// tail) is an ArgumentException naming it; the edges of the ranges pass.</summary>
    private static void ValidateConstants()
    {
        var r = new Random(22);
        int k = 9, n = 19;
        var a = Bytes(r, k); var packed = new sbyte[QGemm.PackedLength(n, k)]; QGemm.PackWeights(Weights(r, n * k), packed, n, k);
        var y = new byte[n];
        int[] goodM = [0, 1 << 30, int.MaxValue], goodS = [Requantization.MinShift, Requantization.MaxShift, 0];
        for (int pos = 0; pos < n; pos++)
        {
            var mult = Enumerable.Range(0, n).Select(i => goodM[i % 3]).ToArray();
            var sh = Enumerable.Range(0, n).Select(i => goodS[i % 3]).ToArray();
            QGemm.Run(a, 3, packed, default, y, 1, k, n, mult, sh, 0, 0, 255);   // the range edges are valid
            foreach (var (bm, bs, param) in new[] { (5, 0, "multiplier"), (-1, 0, "multiplier"), ((1 << 30) - 1, 0, "multiplier"), (1 << 30, Requantization.MinShift - 1, "shift"), (1 << 30, Requantization.MaxShift + 1, "shift") })
            {
                var m2 = (int[])mult.Clone(); var s2 = (int[])sh.Clone();
                m2[pos] = bm; s2[pos] = bs;
                try { QGemm.Run(a, 3, packed, default, y, 1, k, n, m2, s2, 0, 0, 255); }
                catch (ArgumentException e) when (e.ParamName == param) { continue; }
                Fail($"multiplier {bm}, shift {bs} at channel {pos} of {n} was accepted");
            }
        }
    }

    // ---------------------------------------------------------------- convolution

    private static void Conv2D()
    {
        var r = new Random(5);
        for (int it = 0; it < 40; it++)
        {
            int group = r.Next(3) == 0 ? r.Next(2, 4) : 1;
            int cg = r.Next(1, 5), kg = r.Next(1, 11), c = cg * group, k = kg * group, bn = r.Next(1, 3);
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 3), sw = r.Next(1, 3), dh = r.Next(1, 3), dw = r.Next(1, 3);
            int pt = r.Next(0, 2), pl = r.Next(0, 2), h = r.Next(3, 10), width = r.Next(3, 12);
            if (it % 8 == 0) { kh = kw = 1; sh = sw = dh = dw = 1; pt = pl = 0; }
            ConvCase(r, bn, c, k, group, kh, kw, sh, sw, dh, dw, pt, pl, h, width);
        }
    }

    /// <summary>Shapes of the AVX2 blocked path's edges: several pixel tiles (the last one ragged), 8-channel blocks with a
    /// 4-channel tail and a ragged one, large reductions (small tiles), pointwise convolutions read in place and strided,
    /// padded, dilated and grouped ones.</summary>
    private static void Conv2DLarge()
    {
        var r = new Random(15);
        //                  bn  c   k  grp kh kw sh sw dh dw pt pl  h   w
        ConvCase(r, 1, 64, 24, 1, 3, 3, 1, 1, 1, 1, 1, 1, 20, 21);     // kd 576: tile 48, 9 tiles, ragged last
        ConvCase(r, 1, 40, 36, 1, 1, 1, 1, 1, 1, 1, 0, 0, 23, 23);     // pointwise, 529 pixels: tiles of 256 + ragged
        ConvCase(r, 2, 17, 13, 1, 1, 1, 1, 1, 1, 1, 0, 0, 9, 7);       // pointwise, odd kd, batch 2
        ConvCase(r, 1, 24, 20, 1, 3, 3, 2, 2, 1, 1, 1, 1, 17, 18);     // stride 2, padded
        ConvCase(r, 1, 16, 16, 2, 3, 3, 1, 1, 2, 2, 2, 2, 12, 13);     // groups, dilation 2
        ConvCase(r, 1, 3, 32, 1, 3, 3, 2, 2, 1, 1, 1, 1, 31, 30);      // the stem: kd 27
        ConvCase(r, 1, 520, 12, 1, 3, 3, 1, 1, 1, 1, 1, 1, 5, 6);      // kd 4680: minimum tile 16
        ConvCase(r, 1, 8, 9, 1, 1, 5, 1, 2, 1, 1, 0, 2, 6, 19);        // 1x5, stride 1x2, pad left only
        ConvCase(r, 1, 40, 20, 1, 3, 3, 1, 1, 1, 1, 1, 1, 7, 7);       // a 7x7 stage: window tiles of several rows
        ConvCase(r, 1, 6, 10, 1, 5, 5, 1, 1, 1, 1, 2, 2, 4, 3);        // 5x5 wider than the image
        ConvCase(r, 1, 5, 9, 1, 1, 3, 1, 1, 1, 2, 0, 1, 8, 11);        // 1x3 dilated horizontally, stride 1
        ConvCase(r, 1, 7, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 5);         // padded 1x1: gathered, not read in place
        ConvCase(r, 1, 3, 16, 1, 7, 7, 2, 2, 1, 1, 3, 3, 30, 31);      // a 7x7 stride-2 stem: phase planes
        ConvCase(r, 1, 6, 9, 1, 3, 3, 2, 1, 2, 2, 1, 2, 13, 12);       // stride 2x1 with dilation 2
        ConvCase(r, 1, 4, 8, 1, 3, 2, 3, 2, 1, 3, 0, 1, 14, 15);       // stride 3x2, a 3x2 kernel dilated 3 horizontally
        ConvCase(r, 1, 2, 5, 1, 1, 1, 2, 2, 1, 1, 0, 0, 9, 9);         // 1x1 stride 2: gathered
        ConvCase(r, 1, 2, 3, 1, 17, 16, 1, 1, 1, 1, 2, 3, 20, 19);     // 272 taps: more than the tap-offset table (per-row offsets)
    }

    /// <summary>Shapes of the AVX2 exact-pixel path (the digits CNN's convolutions, ResNet-18's 7x7 to 28x28 maps with fewer
    /// output channels, and ragged neighbours): each asserts that the path is taken (or, for the last ones, not taken) and the
    /// tiling it gets, then checks every path against the scalar reference.</summary>
    private static void Conv2DExactPixels()
    {
        var r = new Random(25);
        //        bn  c   k  grp kh kw sh sw dh dw pt pl  h   w  exact tile
        Exact(r, 1, 1, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, true, 64);      // digits conv 1: kd 9 (padded to 12)
        Exact(r, 1, 16, 32, 1, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, true, 64);     // digits conv 2: kd 144, 64 pixels, 8-byte rows
        Exact(r, 1, 32, 32, 1, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4, true, 16);     // digits conv 3: kd 288, 16 pixels (two rows per block)
        Exact(r, 2, 5, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1, 7, 7, true, 49);      // 49 pixels: a 1-pixel tail block, ragged channel block, batch 2
        Exact(r, 1, 3, 9, 1, 3, 3, 1, 1, 1, 1, 0, 0, 8, 9, true, 42);       // unpadded: 6x7 outputs (2-pixel tail)
        Exact(r, 1, 4, 8, 1, 5, 5, 1, 1, 1, 1, 2, 2, 5, 6, true, 30);       // 5x5 kernel: 5x6 outputs (6-pixel ragged block: 8-pixel kernel)
        Exact(r, 1, 6, 10, 2, 3, 3, 1, 1, 1, 1, 1, 1, 6, 5, true, 30);      // groups
        Exact(r, 1, 7, 8, 1, 2, 3, 1, 1, 1, 1, 1, 0, 3, 4, true, 8);        // 2x3 kernel, 4x2 outputs: a block spans 4 rows (13 bytes)
        Exact(r, 1, 3, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, true, 4);        // 2x2 plane: one 4-pixel tail block
        Exact(r, 1, 3, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, true, 3);        // 1x3 plane: 3-pixel tail block
        Exact(r, 1, 4, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 9, 8, true, 72);       // 72 pixels
        Exact(r, 1, 227, 9, 1, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4, true, 16);     // kd 2043: odd, the last pair half padded
        Exact(r, 1, 520, 12, 1, 3, 3, 1, 1, 1, 1, 1, 1, 7, 7, true, 49);   // kd 4680 on 7x7 (ResNet stage 4): one tile, a 1-pixel tail
        Exact(r, 1, 256, 10, 1, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14, true, 196); // 14x14, kd 2304 (ResNet stage 3): one tile, a 4-pixel tail
        Exact(r, 1, 520, 9, 1, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14, true, 96);  // kd 4680 on 14x14: tiles of 96 and 96 + 4 (merged remainder, 4-pixel tail)
        Exact(r, 1, 4, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 13, 30, true, 192);    // 390 pixels: tiles of 192 and 192 + 6 (a 6-pixel ragged block)
        Exact(r, 1, 64, 16, 1, 3, 3, 2, 2, 1, 1, 1, 1, 14, 14, true, 49);   // stride 2 to 7x7: phase planes
        Exact(r, 1, 16, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 28, 28, true, 196);   // stride 2 to 14x14
        Exact(r, 1, 3, 16, 1, 7, 7, 2, 2, 1, 1, 3, 3, 30, 31, true, 192);   // a 7x7 stride-2 stem: 240 pixels in tiles
        Exact(r, 1, 6, 9, 1, 3, 3, 2, 1, 2, 2, 1, 2, 13, 12, true, 72);     // stride 2x1 with dilation 2: 6x12 outputs
        Exact(r, 1, 5, 8, 1, 3, 3, 1, 1, 2, 2, 2, 2, 11, 10, true, 110);    // dilation 2, stride 1
        Exact(r, 1, 3, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 9, 100, true, 192);   // stride 2 over 100-wide rows: 16-column steps of the window fill
        Exact(r, 1, 4, 8, 1, 3, 3, 1, 1, 1, 1, 0, 0, 10, 3, false, 0);      // one output column: a block spans 8 rows of 3 (21 bytes)
        Exact(r, 1, 64, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 66, 66, false, 0);    // window 64 x 68 x 68 bytes: past ExactMaxWindow
    }

    private static void Exact(Random r, int bn, int c, int k, int group, int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, int h, int width,
        bool exact, int tile)
    {
        int oh = (h + 2 * pt - dh * (kh - 1) - 1) / sh + 1, ow = (width + 2 * pl - dw * (kw - 1) - 1) / sw + 1;
        var l = QConv.ConvLayout.Create(c / group, width, kh, kw, oh, ow, sh, sw, pl, dh, dw);
        if (l.Exact != exact || (exact && l.Tile != tile))
            Fail($"QConv exact-pixel path for c={c} k={k} {kh}x{kw} s={sh},{sw} d={dh},{dw} {h}x{width} p={pt},{pl}: taken {l.Exact} (tile {l.Tile}), expected {exact} (tile {tile})");
        ConvCase(r, bn, c, k, group, kh, kw, sh, sw, dh, dw, pt, pl, h, width);
    }

    /// <summary>The stride-phase row copy of the window fills (QConv.StridedRow, 16 then 8 columns per step for stride 2)
    /// against its definition: every phase and padding, rows ending at the end of x (where the loads must stop) and not,
    /// the last row of the window (no room for an 8-byte store past it) and not.</summary>
    private static void ConvStridedRow()
    {
        var r = new Random(27);
        foreach (int sw in new[] { 2, 3 })
            for (int width = 1; width <= 70; width += width < 40 ? 1 : 7)
                foreach (int ix0 in new[] { -3, -2, -1, 0, 1 })
                    foreach (int after in new[] { 0, 5, 40 })
                    {
                        // Window rows after this one: none (the 8-column steps must not write past wp) or some.
                        int wp = (width + 6) / sw + 2, room = wp + (after == 5 ? 0 : 9);
                        var src = Bytes(r, width + after);
                        var dst = new byte[room];
                        QConv.StridedRow(src, dst, wp, ix0, sw, width, 77);
                        for (int c = 0; c < wp; c++)
                        {
                            int ix = ix0 + sw * c;
                            if (dst[c] != ((uint)ix < (uint)width ? src[ix] : 77))
                                Fail($"StridedRow sw={sw} width={width} ix0={ix0} bytes after the row={after}: column {c} = {dst[c]}");
                        }
                    }
    }

    /// <summary>MicroKernelTail (1 to 4 pixels of a panel block, channels in the lanes) against MicroKernel8 on extreme and random
    /// int16 pairs: the same sums in the lanes it writes, the other lanes untouched.</summary>
    private static void ConvTailKernel()
    {
        if (!QPaths.IsSupported(QIsa.Avx2)) return;
        var r = new Random(26);
        foreach (int pairs in new[] { 1, 2, 3, 7, 64, 2340 })
        {
            var panel = new int[8 * pairs]; var wide = new int[8 * pairs];
            for (int i = 0; i < panel.Length; i++)
            {
                short a = (short)(r.Next(3) == 0 ? (r.Next(2) == 0 ? 255 : -255) : r.Next(-255, 256)), b = (short)r.Next(-255, 256);
                short u = (short)(r.Next(3) == 0 ? (r.Next(2) == 0 ? 127 : -127) : r.Next(-127, 128)), v = (short)r.Next(-127, 128);
                panel[i] = (ushort)a | (b << 16); wide[i] = (ushort)u | (v << 16);
            }
            var expected = new int[64];
            QConv.MicroKernel8(ref panel[0], ref wide[0], pairs, ref expected[0]);
            for (int lanes = 1; lanes <= QConv.TailMaxLanes; lanes++)
            {
                var acc = Enumerable.Repeat(12345, 64).ToArray();
                QConv.MicroKernelTail(ref panel[0], ref wide[0], pairs, lanes, ref acc[0]);
                for (int c = 0; c < 8; c++)
                    for (int lane = 0; lane < 8; lane++)
                        if (acc[c * 8 + lane] != (lane < lanes ? expected[c * 8 + lane] : 12345))
                            Fail($"MicroKernelTail pairs={pairs} lanes={lanes}: channel {c} lane {lane} = {acc[c * 8 + lane]}, expected {(lane < lanes ? expected[c * 8 + lane] : 12345)}");
            }
        }
    }

    private static void ConvCase(Random r, int bn, int c, int k, int group, int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, int h, int width)
    {
        {
            int cg = c / group, kg = k / group;
            int oh = (h + 2 * pt - dh * (kh - 1) - 1) / sh + 1, ow = (width + 2 * pl - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) return;
            var x = Bytes(r, bn * c * h * width); var w = Weights(r, k * cg * kh * kw);
            var packed = new sbyte[QConv.PackedLength(k, cg, kh, kw, group)];
            QConv.PackWeights(w, packed, k, cg, kh, kw, group);
            var packedNs = new sbyte[QConv.PackedLength(k, cg, kh, kw, group, QWeightLayout.N8K4)];
            QConv.PackWeights(w, packedNs, k, cg, kh, kw, group, QWeightLayout.N8K4);
            int xz = Zero(r), z = Zero(r); var (lo, hi) = Range(r, z);
            var bias = r.Next(2) == 0 ? [] : Enumerable.Range(0, k).Select(_ => r.Next(-5000, 5000)).ToArray();
            var mult = Enumerable.Range(0, k).Select(_ => Multiplier(r)).ToArray();
            var shifts = Enumerable.Range(0, k).Select(_ => Shift(r, 255L * 127 * cg * kh * kw / 4)).ToArray();
            var scratch = new byte[QConv.ScratchLength(c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group)];
            string shape = $"n={bn} c={c} h={h} w={width} k={k} {kh}x{kw} s={sh},{sw} p={pt},{pl} d={dh},{dw} g={group}";
            byte[] Run(QIsa p, bool? wideTile = null, QWeightLayout layout = QWeightLayout.N8K4Sums)
            {
                var y = new byte[bn * k * oh * ow];
                QConv.Conv2DCore(p, x, xz, layout == QWeightLayout.N8K4 ? packedNs : packed, bias, y, scratch, bn, c, h, width, k, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group,
                    mult, shifts, z, lo, hi, wideTile, layout);
                return y;
            }
            var expected = Run(QIsa.Scalar);
            for (int b = 0; b < bn; b++)
                for (int ko = 0; ko < k; ko++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int g = ko / kg, acc = bias.Length == 0 ? 0 : bias[ko];
                            for (int ci = 0; ci < cg; ci++)
                                for (int ky = 0; ky < kh; ky++)
                                    for (int kx = 0; kx < kw; kx++)
                                    {
                                        int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                                        if (iy < 0 || iy >= h || ix < 0 || ix >= width) continue;
                                        acc += (x[((b * c + g * cg + ci) * h + iy) * width + ix] - xz) * w[((ko * cg + ci) * kh + ky) * kw + kx];
                                    }
                            if (expected[((b * k + ko) * oh + oy) * ow + ox] != Requantization.Requantize(acc, mult[ko], shifts[ko], z, lo, hi)) Fail($"Conv2D scalar vs formula {shape}");
                        }
            Same<byte>(expected, Run(QIsa.Scalar, null, QWeightLayout.N8K4), $"Scalar N8K4 Conv2D {shape}");
            foreach (var p in VectorPaths())
            {
                Same<byte>(expected, Run(p), $"{p} Conv2D {shape}");
                Same<byte>(expected, Run(p, null, QWeightLayout.N8K4), $"{p} N8K4 Conv2D {shape}");
                // AVX2: both micro-kernel tilings, whichever this machine selects (3 blocks of 8 pixels + single blocks, or single blocks only).
                if (p == QIsa.Avx2) { Same<byte>(expected, Run(p, true), $"{p} Conv2D wide tile {shape}"); Same<byte>(expected, Run(p, false), $"{p} Conv2D narrow tile {shape}"); }
            }
        }
    }

    private static void Depthwise()
    {
        var r = new Random(6);
        for (int it = 0; it < 60; it++)
        {
            int stride = 1 + it % 2, c = r.Next(1, 5), bn = r.Next(1, 3), h = r.Next(1, 12), width = r.Next(1, 60);
            int pt = r.Next(0, 2), pl = r.Next(0, 2), pb = r.Next(0, 2), pr = r.Next(0, 2);
            DepthwiseCase(r, stride, c, bn, h, width, pt, pl, pb, pr);
        }
    }

    /// <summary>MobileNetV2's depthwise shapes (the AVX2 plane path) and planes too large for it (the row path), both strides.</summary>
    private static void DepthwiseLarge()
    {
        var r = new Random(16);
        foreach (var (h, stride) in new[] { (112, 1), (112, 2), (56, 1), (28, 2), (14, 1), (7, 1), (4, 2), (130, 1), (129, 2) })
            DepthwiseCase(r, stride, 3, 1, h, h + r.Next(0, 3), 1, 1, 1, 1);
        DepthwiseCase(r, 1, 2, 1, 9, 20, 2, 3, 0, 0);   // padding 2/3 on the top/left, none at the bottom/right
    }

    /// <summary>
    /// Heights and widths around the plane path's 16-byte row steps (1, 2, 7, 14, 15, 16, 17, 31, 33), both strides, both
    /// requantization granularities (drawn per case): the narrow rows' masked copies and over-wide output stores, the
    /// overlapping last step of wide rows, and the element-wise copies at the very end of x / y. Then MobileNetV2's small
    /// planes with many channels (the padding is written once per call and must survive every channel) and 8-or-fewer-wide
    /// stride-2 rows (the half step).
    /// </summary>
    private static void DepthwiseEdges()
    {
        var r = new Random(26);
        int[] sizes = [1, 2, 7, 14, 15, 16, 17, 31, 33];
        foreach (int stride in new[] { 1, 2 })
            foreach (int h in sizes)
                foreach (int width in sizes)
                    DepthwiseCase(r, stride, r.Next(1, 4), 1, h, width, r.Next(0, 2), r.Next(0, 2), r.Next(0, 2), r.Next(0, 2));
        foreach (var (h, stride, c) in new[] { (7, 1, 40), (14, 1, 24), (14, 2, 24), (28, 2, 9), (16, 2, 12), (17, 2, 12) })
            DepthwiseCase(r, stride, c, 2, h, h, 1, 1, 1, 1);
    }

    /// <summary>One depthwise case from a seed (the CsCheck property): scalar vs general convolution, every vector path vs scalar.</summary>
    public static void DepthwiseSeeded(int seed, int stride, int c, int bn, int h, int width, int pt, int pl, int pb, int pr)
        => DepthwiseCase(new Random(seed), stride, c, bn, h, width, pt, pl, pb, pr);

    private static void DepthwiseCase(Random r, int stride, int c, int bn, int h, int width, int pt, int pl, int pb, int pr)
        => DepthwiseCase(r, 3, stride, c, bn, h, width, pt, pl, pb, pr);

    /// <summary>
    /// One depthwise case with a kSize x kSize window (3: <c>DepthwiseConv3x3</c>, 5: <c>DepthwiseConv5x5</c>): the scalar
    /// reference against the general convolution (group = c), then every vector path of this machine against the reference.
    /// </summary>
    private static void DepthwiseCase(Random r, int kSize, int stride, int c, int bn, int h, int width, int pt, int pl, int pb, int pr)
    {
        int taps = kSize * kSize;
        int oh = (h + pt + pb - kSize) / stride + 1, ow = (width + pl + pr - kSize) / stride + 1;
        if (oh < 1 || ow < 1) return;   // (truncating division: a window one row/column past the padded input still runs)
        var x = Bytes(r, bn * c * h * width); var w = Weights(r, c * taps);
        int xz = Zero(r), z = Zero(r); var (lo, hi) = Range(r, z);
        int biasRange = kSize == 3 ? 5000 : 20000;
        var bias = r.Next(2) == 0 ? [] : Enumerable.Range(0, c).Select(_ => r.Next(-biasRange, biasRange)).ToArray();
        bool perChannel = r.Next(2) == 0;
        var mult = Enumerable.Range(0, perChannel ? c : 1).Select(_ => Multiplier(r)).ToArray();
        var shifts = Enumerable.Range(0, perChannel ? c : 1).Select(_ => Shift(r, 255L * 127 * taps / 4)).ToArray();
        string shape = $"{kSize}x{kSize} n={bn} c={c} h={h} w={width} s={stride} p={pt},{pl},{pb},{pr}";
        byte[] Run(QIsa p)
        {
            var y = new byte[bn * c * oh * ow];
            if (kSize == 3) QConv.DepthwiseCore(p, x, xz, w, bias, y, bn, c, h, width, oh, ow, stride, pt, pl, mult, shifts, z, lo, hi);
            else QConv.Depthwise5x5Core(p, x, xz, w, bias, y, bn, c, h, width, oh, ow, stride, pt, pl, mult, shifts, z, lo, hi);
            return y;
        }
        var expected = Run(QIsa.Scalar);
        var packed = new sbyte[QConv.PackedLength(c, 1, kSize, kSize, c)];
        QConv.PackWeights(w, packed, c, 1, kSize, kSize, c);
        var general = new byte[expected.Length];
        var mAll = perChannel ? mult : Enumerable.Repeat(mult[0], c).ToArray();
        var sAll = perChannel ? shifts : Enumerable.Repeat(shifts[0], c).ToArray();
        QConv.Conv2DCore(QIsa.Scalar, x, xz, packed, bias, general, new byte[taps], bn, c, h, width, c, kSize, kSize, oh, ow, stride, stride, pt, pl, 1, 1, c, mAll, sAll, z, lo, hi);
        Same<byte>(general, expected, $"depthwise scalar vs general {shape}");
        foreach (var p in VectorPaths()) Same<byte>(expected, Run(p), $"{p} depthwise {shape}");
    }

    // ---------------------------------------------------------------- element-wise

    private static void Add()
    {
        var r = new Random(7);
        for (int it = 0; it < 200; it++)
        {
            int len = r.Next(1, 70);
            var a = Bytes(r, len); var b = Bytes(r, r.Next(4) == 0 ? 1 : len);
            int az = Zero(r), bz = Zero(r), z = Zero(r); var (lo, hi) = Range(r, z);
            int ma = r.Next(6) == 0 ? int.MaxValue : r.Next(0, int.MaxValue), mb = r.Next(6) == 0 ? 0 : r.Next(0, int.MaxValue);
            int sh = r.Next(5) == 0 ? r.Next(Requantization.MinShift, Requantization.MaxShift + 1) : r.Next(-1, 4);
            if (it % 10 == 0)
            {
                // Ties: with multipliers 2^30 (or 0) and shift 0, p / 2^31 is (da + db) / 2, half-way for every odd sum.
                (ma, mb, sh) = (1 << 30, it % 20 == 0 ? 0 : 1 << 30, 0);
                len = Math.Max(len, 16);
                a = Bytes(r, len); b = Bytes(r, b.Length == 1 ? 1 : len);
            }
            if (it % 10 == 5) sh = Requantization.MinShift + r.Next(0, 12);   // n = 31 + shift around the double form's bound
            var expected = new byte[len];
            QElementwise.AddCore(QIsa.Scalar, a, az, ma, b, bz, mb, sh, expected, z, lo, hi);
            foreach (var p in VectorPaths())
            {
                var actual = new byte[len];
                QElementwise.AddCore(p, a, az, ma, b, bz, mb, sh, actual, z, lo, hi);
                Same<byte>(expected, actual, $"{p} Add len={len} b={b.Length} shift={sh}");
            }
        }
    }

    private static void Mul()
    {
        var r = new Random(8);
        for (int it = 0; it < 200; it++)
        {
            int len = r.Next(1, 70);
            var a = Bytes(r, len); var b = Bytes(r, r.Next(4) == 0 ? 1 : len);
            int az = Zero(r), bz = Zero(r), z = Zero(r); var (lo, hi) = Range(r, z);
            int m = Multiplier(r), sh = r.Next(5) == 0 ? r.Next(Requantization.MinShift, Requantization.MaxShift + 1) : r.Next(3, 10);
            var expected = new byte[len];
            QElementwise.MulCore(QIsa.Scalar, a, az, b, bz, expected, m, sh, z, lo, hi);
            foreach (var p in VectorPaths())
            {
                var actual = new byte[len];
                QElementwise.MulCore(p, a, az, b, bz, actual, m, sh, z, lo, hi);
                Same<byte>(expected, actual, $"{p} Mul len={len} b={b.Length} shift={sh}");
            }
        }
    }

    // ---------------------------------------------------------------- pooling

    /// <summary>Max pooling shapes of the models (ResNet's 3x3 stride-2 stem pool, the digits CNN's 2x2), ragged vector ends,
    /// and a row wider than the AVX2 row buffer (<see cref="QPool.MaxRowBytes"/>: the general path).</summary>
    private static void MaxPoolShapes()
    {
        var r = new Random(19);
        //            planes h    w    kh kw sh sw dh dw pt pl pb pr
        foreach (var (planes, h, width, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr) in new[]
        {
            (3, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),   // ResNet stem pool 112 -> 56
            (5, 8, 8, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0),       // digits 8 -> 4 (2x2/2 path: 4-byte rows)
            (32, 8, 8, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0),      // the digits layer itself
            (1, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0),       // 2x2/2, 4 input bytes: per-byte column pairs, per-byte rows
            (3, 4, 6, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0),       // 2x2/2, 72 input bytes: an overlapping last 64-byte step
            (2, 6, 40, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0),      // 2x2/2, 20-wide output rows: an overlapping 16-byte step
            (3, 64, 200, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0),    // 2x2/2, 20 output rows per buffer chunk: several chunks
            (2, 9, 8, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0),       // 2x2/2 with an odd height: not the 2x2 path
            (2, 9, 71, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),      // stride 1, ow 71: two steps and an overlapping end
            (2, 7, 45, 3, 2, 2, 2, 2, 1, 0, 1, 0, 1),      // stride 2, ow 23: an overlapping end
            (1, 3, 35, 2, 5, 1, 3, 1, 2, 1, 4, 0, 4),      // stride 3, dilation 2: the per-output column pass
            (1, 2, 4100, 2, 3, 1, 1, 1, 1, 0, 1, 1, 1),    // wider than the row buffer
        })
        {
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            // The 2x2/2 path is taken exactly for unpadded 2x2/2 pools of even planes.
            bool twoByTwo = kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt + pl + pb + pr == 0 && h % 2 == 0 && width % 2 == 0;
            if (QPool.Pool2x2Fits(h, width, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw) != twoByTwo) Fail($"QPool 2x2/2 path for h={h} w={width}: expected taken={twoByTwo}");
            var x = Bytes(r, planes * h * width);
            byte[] Run(QIsa p)
            {
                var y = new byte[planes * oh * ow];
                QPool.WindowCore(p, true, x, 0, y, 1, planes, h, width, kh, kw, oh, ow, sh, sw, pt, pl, pb, pr, dh, dw, false, 1 << 30, -1, 0, 0, 255);
                return y;
            }
            var expected = Run(QIsa.Scalar);
            for (int pIdx = 0; pIdx < planes; pIdx++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int best = 0;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < width) best = Math.Max(best, x[(pIdx * h + iy) * width + ix]);
                            }
                        if (expected[(pIdx * oh + oy) * ow + ox] != best) Fail($"MaxPool scalar vs formula h={h} w={width}");
                    }
            foreach (var p in VectorPaths()) Same<byte>(expected, Run(p), $"{p} MaxPool h={h} w={width} {kh}x{kw} s={sh},{sw} d={dh},{dw}");
        }
    }

    private static void Pool(bool max)
    {
        var r = new Random(max ? 9 : 10);
        for (int it = 0; it < 80; it++)
        {
            int planes = r.Next(1, 4), h = r.Next(1, 10), width = r.Next(1, 80), kh = r.Next(1, 4), kw = r.Next(1, 4);
            int sh = r.Next(1, 3), sw = r.Next(1, 4), dh = max ? r.Next(1, 3) : 1, dw = max && r.Next(4) == 0 ? 2 : 1;
            int pt = r.Next(0, kh), pl = r.Next(0, kw), pb = r.Next(0, kh), pr = r.Next(0, kw);
            int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (width + pl + pr - dw * (kw - 1) - 1) / sw + 1;
            if (oh < 1 || ow < 1) continue;
            var x = Bytes(r, planes * h * width);
            int xz = Zero(r), z = Zero(r); var (lo, hi) = Range(r, z);
            int m = r.Next(2) == 0 ? 1 << 30 : Multiplier(r), s = r.Next(2) == 0 ? -1 : r.Next(-3, 2);
            bool include = r.Next(2) == 0;
            string shape = $"planes={planes} h={h} w={width} {kh}x{kw} s={sh},{sw} d={dh},{dw} p={pt},{pl},{pb},{pr} include={include}";
            byte[] Run(QIsa p)
            {
                var y = new byte[planes * oh * ow];
                QPool.WindowCore(p, max, x, xz, y, 1, planes, h, width, kh, kw, oh, ow, sh, sw, pt, pl, pb, pr, dh, dw, include, m, s, z, lo, hi);
                return y;
            }
            var expected = Run(QIsa.Scalar);
            if (max)
                for (int pIdx = 0; pIdx < planes; pIdx++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int best = 0;
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < width) best = Math.Max(best, x[(pIdx * h + iy) * width + ix]);
                                }
                            if (expected[(pIdx * oh + oy) * ow + ox] != best) Fail($"MaxPool scalar vs formula {shape}");
                        }
            foreach (var p in VectorPaths()) Same<byte>(expected, Run(p), $"{p} {(max ? "MaxPool" : "AveragePool")} {shape}");
        }
        if (!max)
        {
            // hand case: 2x2 window over [1, 2, 3, 4] (zero point 0, identity scale): 10 / 4 = 2.5 -> 2 (ties to even)
            var y = new byte[1];
            QPool.AveragePool2D([1, 2, 3, 4], 0, y, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, false, 1 << 30, -1, 0, 0, 255);
            if (y[0] != 2) Fail($"AveragePool ties to even: {y[0]}");
        }
    }

    private static void GlobalPool()
    {
        var r = new Random(11);
        for (int it = 0; it < 60; it++)
        {
            // 16 (the digits CNN's 4x4 plane: no 32-byte step on AVX2) and 48 (one step and a 16-byte scalar tail).
            int ch = r.Next(1, 5), spatial = it < 2 ? 16 + 32 * it : r.Next(1, 200);
            var x = Bytes(r, ch * spatial);
            int xz = Zero(r), z = Zero(r); var (lo, hi) = Range(r, z);
            int m = r.Next(2) == 0 ? 1 << 30 : Multiplier(r), s = r.Next(-3, 2);
            var expected = new byte[ch];
            QPool.GlobalCore(QIsa.Scalar, x, xz, expected, ch, spatial, m, s, z, lo, hi);
            for (int i = 0; i < ch; i++)
            {
                int acc = 0; for (int j = 0; j < spatial; j++) acc += x[i * spatial + j] - xz;
                if (expected[i] != Requantization.Requantize(Requantization.DivideRoundEven(acc, spatial), m, s, z, lo, hi)) Fail("GlobalAveragePool scalar vs formula");
            }
            foreach (var p in VectorPaths())
            {
                var actual = new byte[ch];
                QPool.GlobalCore(p, x, xz, actual, ch, spatial, m, s, z, lo, hi);
                Same<byte>(expected, actual, $"{p} GlobalAveragePool ch={ch} spatial={spatial}");
            }
        }
    }

    // ---------------------------------------------------------------- quantize / dequantize

    private static float[] Floats(Random r, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = r.Next(10) switch
            {
                0 => (r.Next(-300, 300) + 0.5f) * scale,                  // ties
                1 => r.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity },
                2 => r.Next(-1000, 1000) * scale * 3,                     // saturating
                _ => (float)(r.NextDouble() * 2 - 1) * 140 * scale,
            };
        return x;
    }

    private static void QuantizeDequantize()
    {
        var r = new Random(12);
        if (QLinear.QuantizeOne(2.5f, 1f, 0, 0, 255) != 2 || QLinear.QuantizeOne(3.5f, 1f, 0, 0, 255) != 4 || QLinear.QuantizeOne(float.NaN, 1f, 7, -7, 248) != 7)
            Fail("Quantize hand cases");
        for (int it = 0; it < 100; it++)
        {
            int len = r.Next(1, 60);
            float scale = (float)(r.NextDouble() * 0.1 + 1e-3);
            var x = Floats(r, len, scale);
            bool signed = r.Next(2) == 0;
            int zp = signed ? r.Next(-128, 128) : Zero(r);
            int zu = signed ? zp + 128 : zp;
            byte flip = signed ? (byte)0x80 : (byte)0;
            var expected = new byte[len];
            QLinear.QuantizeCore(QIsa.Scalar, x, expected, scale, zu, flip);
            for (int i = 0; i < len; i++)
            {
                double q = Math.Round((double)(x[i] / scale), MidpointRounding.ToEven);
                int want = double.IsNaN(q) ? zp : (int)Math.Clamp(q + zp, signed ? -128 : 0, signed ? 127 : 255);
                int got = signed ? (sbyte)expected[i] : expected[i];
                if (got != want) Fail($"Quantize scalar vs formula: x={x[i]:R} scale={scale:R} zp={zp}: {got} != {want}");
            }
            var deq = new float[len];
            QLinear.DequantizeCore(QIsa.Scalar, expected, deq, scale, zu, flip);
            for (int i = 0; i < len; i++)
                if (deq[i] != (float)((signed ? (sbyte)expected[i] : expected[i]) - zp) * scale) Fail("Dequantize scalar vs formula");
            foreach (var p in VectorPaths())
            {
                var actual = new byte[len];
                QLinear.QuantizeCore(p, x, actual, scale, zu, flip);
                Same<byte>(expected, actual, $"{p} Quantize len={len} signed={signed}");
                var d = new float[len];
                QLinear.DequantizeCore(p, expected, d, scale, zu, flip);
                SameBits(deq, d, $"{p} Dequantize len={len} signed={signed}");
            }
        }
    }

    private static void Dynamic()
    {
        var r = new Random(13);
        for (int it = 0; it < 60; it++)
        {
            int rows = r.Next(1, 4), cols = r.Next(1, 50);
            var x = new float[rows * cols];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(r.NextDouble() * 2 - (it % 3 == 0 ? 0 : 1)) * 5;
            if (it % 7 == 0) Array.Clear(x);
            bool symmetric = r.Next(2) == 0;
            var expected = new byte[x.Length]; var es = new float[rows]; var ez = new int[rows];
            QLinear.RowsCore(QIsa.Scalar, x, expected, es, ez, rows, cols, symmetric);
            foreach (var p in VectorPaths())
            {
                var actual = new byte[x.Length]; var s = new float[rows]; var z = new int[rows];
                QLinear.RowsCore(p, x, actual, s, z, rows, cols, symmetric);
                SameBits(es, s, $"{p} dynamic scales");
                Same<int>(ez, z, $"{p} dynamic zero points");
                Same<byte>(expected, actual, $"{p} dynamic rows={rows} cols={cols} symmetric={symmetric}");
            }
            // round trip within half a step
            for (int i = 0; i < x.Length; i++)
            {
                int row = i / cols;
                float back = ((symmetric ? (sbyte)expected[i] : expected[i]) - ez[row]) * es[row];
                if (Math.Abs(back - x[i]) > es[row] * 0.5001f + 1e-6f) Fail($"dynamic round trip {x[i]} -> {back}");
            }
        }
    }

    private static void DequantizeChannels()
    {
        var r = new Random(15);
        for (int it = 0; it < 80; it++)
        {
            int rows = r.Next(0, 9), cols = r.Next(0, 45), axis = it % 2;
            var w = Weights(r, rows * cols);
            var scales = new float[axis == 0 ? rows : cols];
            for (int i = 0; i < scales.Length; i++) scales[i] = r.Next(8) == 0 ? 1f : (float)Math.ScaleB(r.NextDouble() + 0.5, r.Next(-20, 4));
            var expected = new float[w.Length];
            QLinear.DequantizeChannelsScalar(w, scales, expected, rows, cols, axis);
            // the reference against the formula DequantizeLinear uses: (float)(w - 0) * scale
            for (int i = 0; i < w.Length; i++)
                if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits((float)(w[i] - 0) * scales[axis == 0 ? i / cols : i % cols]))
                    Fail($"DequantizeChannels reference element {i}");
            foreach (var p in VectorPaths())
            {
                var actual = new float[w.Length];
                QLinear.DequantizeChannelsCore(p, System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()), scales, actual, rows, cols, axis);
                SameBits(expected, actual, $"{p} DequantizeChannels rows={rows} cols={cols} axis={axis}");
            }
            var viaPublic = new float[w.Length];
            QLinear.DequantizeChannels(w, scales, viaPublic, rows, cols, axis);
            SameBits(expected, viaPublic, $"DequantizeChannels (best path) rows={rows} cols={cols} axis={axis}");
        }
    }

    // ---------------------------------------------------------------- allocation

    private static readonly int[] OneMult = [1 << 30], OneShift = [-1];

    private static void ZeroAllocation()
    {
        var r = new Random(14);
        int m = 5, k = 37, n = 19;
        var a = Bytes(r, m * k); var packed = new sbyte[QGemm.PackedLength(n, k)];
        QGemm.PackWeights(Weights(r, n * k), packed, n, k);
        var packedNs = new sbyte[QGemm.PackedLength(n, k, QWeightLayout.N8K4)];
        QGemm.PackWeights(Weights(r, n * k), packedNs, n, k, QWeightLayout.N8K4);
        var bias = new int[n]; var y = new byte[m * n]; var yi = new int[m * n]; var yf = new float[m * n];
        int[] az = [3]; float[] ascale = [0.1f], wscale = [0.01f];
        var x = Bytes(r, 2 * 8 * 9 * 11); var cw = new sbyte[QConv.PackedLength(8, 8, 3, 3, 1)];
        QConv.PackWeights(Weights(r, 8 * 8 * 9), cw, 8, 8, 3, 3, 1);
        var dw = Weights(r, 8 * 9); var yc = new byte[x.Length]; var scratch = new byte[QConv.ScratchLength(8, 9, 11, 8, 3, 3, 9, 11, 1, 1, 1, 1, 1, 1, 1)];
        var yp = new byte[2 * 8 * 4 * 5]; var yg = new byte[16];
        var f = new float[x.Length]; var scales = new float[16]; var zps = new int[16];
        var dwScales = new float[9]; var dwOut = new float[dw.Length];
        int mb = 40;   // m >= 16: the AVX2 blocked path (stack scratch)
        var ab = Bytes(r, mb * k); var yb = new byte[mb * n]; var yfb = new float[mb * n];
        var xw = Bytes(r, 4 * 40 * 70); var yw = new byte[4 * 20 * 35];
        var kernels = new (string Name, Action Run)[]
        {
            ("QGemm.Run", () => QGemm.Run(a, 3, packed, bias, y, m, k, n, OneMult, OneShift, 128, 0, 255)),
            ("QGemm.Run m = 1 N8K4", () => QGemm.Run(a.AsSpan(0, k), 3, packedNs, bias, y.AsSpan(0, n), 1, k, n, OneMult, OneShift, 128, 0, 255, QWeightLayout.N8K4)),
            ("QGemm.Run m >= 16", () => QGemm.Run(ab, 3, packed, bias, yb, mb, k, n, OneMult, OneShift, 128, 0, 255)),
            ("QGemm.RunDequantized m >= 16", () => QGemm.RunDequantized(ab, az, ascale, packed, wscale, default, yfb, mb, k, n)),
            ("QPool.MaxPool2D wide rows", () => QPool.MaxPool2D(xw, yw, 1, 4, 40, 70, 3, 3, 20, 35, 2, 2, 1, 1, 1, 1)),
            ("QGemm.RunInt32", () => QGemm.RunInt32(a, 3, packed, bias, yi, m, k, n)),
            ("QGemm.RunDequantized", () => QGemm.RunDequantized(a, az, ascale, packed, wscale, default, yf, m, k, n)),
            ("QConv.Conv2D", () => QConv.Conv2D(x, 7, cw, default, yc, scratch, 2, 8, 9, 11, 8, 3, 3, 9, 11, 1, 1, 1, 1, 1, 1, 1, OneMult, OneShift, 0, 0, 255)),
            ("QConv.DepthwiseConv3x3", () => QConv.DepthwiseConv3x3(x, 7, dw, default, yc, 2, 8, 9, 11, 9, 11, 1, 1, 1, OneMult, OneShift, 0, 0, 255)),
            ("QElementwise.Add", () => QElementwise.Add(x, 1, 1 << 30, x, 2, 1 << 29, 0, yc, 3, 0, 255)),
            ("QElementwise.Mul", () => QElementwise.Mul(x, 1, x, 2, yc, 1 << 30, 6, 3, 0, 255)),
            ("QPool.MaxPool2D", () => QPool.MaxPool2D(x, yp, 2, 8, 9, 11, 3, 3, 4, 5, 2, 2, 0, 0, 1, 1)),
            ("QPool.AveragePool2D", () => QPool.AveragePool2D(x, 5, yp, 2, 8, 9, 11, 3, 3, 4, 5, 2, 2, 0, 0, 0, 0, false, 1 << 30, -1, 5, 0, 255)),
            ("QPool.GlobalAveragePool", () => QPool.GlobalAveragePool(x, 5, yg, 16, 99, 1 << 30, -1, 5, 0, 255)),
            ("QLinear.Quantize", () => QLinear.Quantize(f, yc, 0.1f, 3)),
            ("QLinear.Dequantize", () => QLinear.Dequantize(x, f, 0.1f, 3)),
            ("QLinear.DequantizeChannels", () => QLinear.DequantizeChannels(dw, dwScales, dwOut, 8, 9, 1)),
            ("QLinear.QuantizeRowsDynamic", () => QLinear.QuantizeRowsDynamic(f, yc, scales, zps, 16, 99)),
        };
        var failures = new List<string>();
        foreach (var (name, run) in kernels)
        {
            run();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) run();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated != 0) failures.Add($"{name}: {allocated} bytes in 10 calls");
        }
        if (failures.Count > 0) Fail(string.Join("; ", failures));
    }
}

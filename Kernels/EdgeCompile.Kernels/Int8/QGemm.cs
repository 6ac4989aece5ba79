using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// Int8 GEMM (ONNX QLinearMatMul/QGemm/MatMulInteger, and the core of <c>QConv</c>): u8 activations
/// a[m, k] with zero point aZero, symmetric s8 weights w[n, k] in [-127, 127] packed by <see cref="PackWeights"/>,
/// int32 accumulators acc[m, n] = sum_k (a[m, k] - aZero) * w[n, k] + bias[n].
/// Packed layout <c>n8k4</c>: per block of 8 output channels, k padded to a multiple of 4, for each k-quad the
/// 8 channels' 4 weights (32 bytes: [c0 k0..3][c1 k0..3]...[c7 k0..3]), then the 8 channels' weight sums as
/// little-endian int32 (32 bytes). Missing channels and padded k are zero.
/// </summary>
public static class QGemm
{
    /// <summary>
    /// Largest k for which every accumulator fits in int32 whatever the data: 255 * 127 * k &lt;= 2^31 - 1. Bias must
    /// also fit: |bias| &lt;= 2^31 - 1 - 32385 * k. All paths compute modulo 2^32, so any accumulator whose true value
    /// fits in int32 is exact.
    /// </summary>
    public const int MaxK = 66311;

    internal const int BlockN = 8;

    /// <summary>Bytes of one 8-channel block: 8 * round_up(k, 4) weights + 8 int32 sums.</summary>
    internal static int BlockBytes(int k) => ((k + 3) & ~3) * BlockN + 32;

    /// <summary>Length in bytes of the packed weights for n output channels and reduction size k.</summary>
    public static int PackedLength(int n, int k) => (n + BlockN - 1) / BlockN * BlockBytes(k);

    /// <summary>Packs w[n, k] (row-major: ONNX MatMul B transposed, or Gemm B with transB) into the <c>n8k4</c> layout.</summary>
    /// <exception cref="ArgumentException">Bad sizes, or a weight is -128 (weights are symmetric, in [-127, 127]).</exception>
    public static void PackWeights(ReadOnlySpan<sbyte> w, Span<sbyte> packed, int n, int k)
    {
        if (n < 0 || k < 1 || k > MaxK) throw new ArgumentException($"PackWeights: bad n={n}, k={k} (k in [1, {MaxK}]).", nameof(k));
        if (w.Length != (long)n * k) throw new ArgumentException($"PackWeights: w has {w.Length} elements, expected n*k = {(long)n * k}.", nameof(w));
        if (packed.Length != PackedLength(n, k)) throw new ArgumentException($"PackWeights: packed has {packed.Length} bytes, expected {PackedLength(n, k)}.", nameof(packed));
        packed.Clear();
        int bb = BlockBytes(k), k4 = (k + 3) & ~3;
        for (int ch = 0; ch < n; ch++)
        {
            var block = packed.Slice(ch / BlockN * bb, bb);
            int c = ch % BlockN, sum = 0;
            for (int kk = 0; kk < k; kk++)
            {
                sbyte v = w[ch * k + kk];
                if (v == sbyte.MinValue) throw new ArgumentException($"PackWeights: w[{ch}, {kk}] is -128; weights must be in [-127, 127].", nameof(w));
                block[(kk >> 2) * 32 + c * 4 + (kk & 3)] = v;
                sum += v;
            }
            MemoryMarshal.Write(MemoryMarshal.AsBytes(block.Slice(k4 * BlockN + c * 4, 4)), in sum);
        }
    }

    /// <summary>y[m, n] = clamp(yZero + RoundingShift(acc * multiplier[n], 31 + shift[n]), qmin, qmax) (edge-rne64);
    /// multiplier/shift have 1 (per tensor) or n (per channel) elements; bias is empty or n.</summary>
    public static void Run(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y,
        int m, int k, int n, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax)
    {
        Validate(a, packedW, m, k, n, y.Length, "QGemm.Run");
        ValidateZero(aZero, "QGemm.Run");
        if (bias.Length != 0 && bias.Length != n) throw new ArgumentException($"QGemm.Run: bias has {bias.Length} elements, expected 0 or {n}.", nameof(bias));
        Requantization.ValidateParams(multiplier, shift, n, yZero, qmin, qmax, "QGemm.Run");
        Core(QPaths.Best, a, aZero, default, default, packedW, bias, default, m, k, n, multiplier, shift, default, yZero, qmin, qmax, y, default, default);
    }

    /// <summary>y[m, n] = acc (int32, bias included; MatMulInteger/ConvInteger).</summary>
    public static void RunInt32(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<int> y, int m, int k, int n)
    {
        Validate(a, packedW, m, k, n, y.Length, "QGemm.RunInt32");
        ValidateZero(aZero, "QGemm.RunInt32");
        if (bias.Length != 0 && bias.Length != n) throw new ArgumentException($"QGemm.RunInt32: bias has {bias.Length} elements, expected 0 or {n}.", nameof(bias));
        Core(QPaths.Best, a, aZero, default, default, packedW, bias, default, m, k, n, default, default, default, 0, 0, 0, default, y, default);
    }

    /// <summary>
    /// Dynamic quantization (<c>Int8Dynamic</c>): y[m, n] = (float)acc * aScale[m] * wScale[n] + bias[n], evaluated left to
    /// right in float without fused multiply-add (acc excludes the bias). aZero/aScale have 1 or m elements (per tensor or per
    /// row, from <c>QLinear.QuantizeRowsDynamic</c>);
    /// wScale has 1 or n; bias is empty or n.
    /// </summary>
    public static void RunDequantized(ReadOnlySpan<byte> a, ReadOnlySpan<int> aZero, ReadOnlySpan<float> aScale, ReadOnlySpan<sbyte> packedW,
        ReadOnlySpan<float> wScale, ReadOnlySpan<float> bias, Span<float> y, int m, int k, int n)
    {
        Validate(a, packedW, m, k, n, y.Length, "QGemm.RunDequantized");
        if (aZero.Length != 1 && aZero.Length != m) throw new ArgumentException($"QGemm.RunDequantized: aZero has {aZero.Length} elements, expected 1 or {m}.", nameof(aZero));
        if (aScale.Length != aZero.Length) throw new ArgumentException($"QGemm.RunDequantized: aScale has {aScale.Length} elements, expected {aZero.Length}.", nameof(aScale));
        foreach (int z in aZero) ValidateZero(z, "QGemm.RunDequantized");
        if (wScale.Length != 1 && wScale.Length != n) throw new ArgumentException($"QGemm.RunDequantized: wScale has {wScale.Length} elements, expected 1 or {n}.", nameof(wScale));
        if (bias.Length != 0 && bias.Length != n) throw new ArgumentException($"QGemm.RunDequantized: bias has {bias.Length} elements, expected 0 or {n}.", nameof(bias));
        Core(QPaths.Best, a, 0, aZero, aScale, packedW, default, bias, m, k, n, default, default, wScale, 0, 0, 0, default, default, y);
    }

    internal static void Validate(ReadOnlySpan<byte> a, ReadOnlySpan<sbyte> packedW, int m, int k, int n, int yLength, string kernel)
    {
        if (m < 0 || n < 0 || k < 1 || k > MaxK) throw new ArgumentException($"{kernel}: bad m={m}, k={k}, n={n} (k in [1, {MaxK}]).", nameof(k));
        if (a.Length != (long)m * k) throw new ArgumentException($"{kernel}: a has {a.Length} elements, expected m*k = {(long)m * k}.", nameof(a));
        if (packedW.Length != PackedLength(n, k)) throw new ArgumentException($"{kernel}: packedW has {packedW.Length} bytes, expected PackedLength(n, k) = {PackedLength(n, k)}.", nameof(packedW));
        if (yLength != (long)m * n) throw new ArgumentException($"{kernel}: y has {yLength} elements, expected m*n = {(long)m * n}.", "y");
    }

    internal static void ValidateZero(int zero, string kernel)
    {
        if (zero < 0 || zero > 255) throw new ArgumentException($"{kernel}: activation zero point {zero} is not in [0, 255].", "aZero");
    }

    /// <summary>All three variants: exactly one of yU8 (multiplier/shift), yI32, yF32 (aZeros/aScales/wScale/biasF) is non-empty.</summary>
    internal static void Core(QIsa isa, ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<int> aZeros, ReadOnlySpan<float> aScales,
        ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, ReadOnlySpan<float> biasF, int m, int k, int n,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, ReadOnlySpan<float> wScale, int yZero, int qmin, int qmax,
        Span<byte> yU8, Span<int> yI32, Span<float> yF32)
    {
        if (isa == QIsa.Avx2 && m >= BlockedMinRows && BlockedTile(k) > 0)
        {
            CoreBlockedAvx2(a, aZero, aZeros, aScales, packedW, bias, biasF, m, k, n, multiplier, shift, wScale, yZero, qmin, qmax, yU8, yI32, yF32);
            return;
        }
        int bb = BlockBytes(k);
        bool f32 = !wScale.IsEmpty;
        bool u8 = !f32 && !multiplier.IsEmpty;
        Span<int> acc = stackalloc int[BlockN];
        Span<int> mult = stackalloc int[BlockN];
        Span<int> sh = stackalloc int[BlockN];
        Span<int> b8 = stackalloc int[BlockN];
        Span<float> ws = stackalloc float[BlockN];
        Span<float> bf = stackalloc float[BlockN];
        Span<byte> out8 = stackalloc byte[BlockN];
        for (int n0 = 0; n0 < n; n0 += BlockN)
        {
            int nb = Math.Min(BlockN, n - n0);
            var block = packedW.Slice(n0 / BlockN * bb, bb);
            mult.Clear(); sh.Clear(); b8.Clear(); ws.Clear(); bf.Clear();
            for (int c = 0; c < nb; c++)
            {
                if (u8) { int i = multiplier.Length == 1 ? 0 : n0 + c; mult[c] = multiplier[i]; sh[c] = shift[i]; }
                if (f32) { ws[c] = wScale[wScale.Length == 1 ? 0 : n0 + c]; if (!biasF.IsEmpty) bf[c] = biasF[n0 + c]; }
                else if (!bias.IsEmpty) b8[c] = bias[n0 + c];
            }
            for (int row = 0; row < m; row++)
            {
                int z = f32 ? aZeros[aZeros.Length == 1 ? 0 : row] : aZero;
                AccRow(isa, a.Slice(row * k, k), z, block, k, acc);
                if (f32)
                {
                    DequantizeRow(isa, acc, aScales[aScales.Length == 1 ? 0 : row], ws, bf, yF32.Slice(row * n + n0, nb));
                    continue;
                }
                for (int c = 0; c < BlockN; c++) acc[c] += b8[c];
                if (u8)
                {
                    RequantizeBlock(isa, acc, mult, sh, yZero, qmin, qmax, out8);
                    out8.Slice(0, nb).CopyTo(yU8.Slice(row * n + n0, nb));
                }
                else acc.Slice(0, nb).CopyTo(yI32.Slice(row * n + n0, nb));
            }
        }
    }

    // ---------------------------------------------------------------- AVX2: register-blocked, rows in the vector lanes
    //
    // The same micro-kernel as QConv's AVX2 path (4 channels x 16 lanes, int16 pairs, vpmaddwd): here the lanes are 16 rows
    // of a. A tile of rows is transposed into a panel of int16 pairs (a[r, 2j] - aZero_r, a[r, 2j + 1] - aZero_r) (k past the
    // end: 0), each 8-channel block of packed weights is widened once per tile, and the epilogue (bias + requantization,
    // int32, or the float dequantization in the scalar reference's order) scatters each channel's 16 results to y[row, n].
    // Scratch is on the stack (at most BlockedStackBytes); larger k runs the row path.

    internal const int BlockedMinRows = 16, BlockedStackBytes = 96 * 1024;

    /// <summary>Rows per tile of the blocked path for this k (a multiple of 16, up to 64), or 0 when its scratch does not fit.</summary>
    internal static int BlockedTile(int k)
    {
        int k4 = (k + 3) & ~3;
        int rows = (BlockedStackBytes - 16 * k4) / (2 * k4) & ~15;
        return rows < 16 ? 0 : Math.Min(rows, 64);
    }

    private static void CoreBlockedAvx2(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<int> aZeros, ReadOnlySpan<float> aScales,
        ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, ReadOnlySpan<float> biasF, int m, int k, int n,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, ReadOnlySpan<float> wScale, int yZero, int qmin, int qmax,
        Span<byte> yU8, Span<int> yI32, Span<float> yF32)
    {
        bool f32 = !wScale.IsEmpty, u8 = !f32 && !multiplier.IsEmpty;
        int k4 = (k + 3) & ~3, pairs = k4 / 2, tile = BlockedTile(k), bb = BlockBytes(k);
        Span<byte> buf = stackalloc byte[16 * k4 + 2 * k4 * tile];
        var wide = MemoryMarshal.Cast<byte, int>(buf.Slice(0, 16 * k4));
        var panel = MemoryMarshal.Cast<byte, int>(buf.Slice(16 * k4, 2 * k4 * tile));
        Span<int> i32 = stackalloc int[16];
        Span<float> f = stackalloc float[16];
        Span<float> rowScale = stackalloc float[16];
        Span<byte> b16 = stackalloc byte[16];
        Span<int> acc64 = stackalloc int[64];
        ref int accRef = ref MemoryMarshal.GetReference(acc64);
        Span<Requantization.UniformAvx2> rqs = stackalloc Requantization.UniformAvx2[4];
        for (int p0 = 0; p0 < m; p0 += tile)
        {
            int np = Math.Min(tile, m - p0), npad = (np + 15) & ~15;
            // Transpose rows p0 .. p0 + np into the panel: block qb of 16 rows, pair j at panel[(qb * pairs + j) * 16 + r].
            for (int r = 0; r < npad; r++)
            {
                int qb = r >> 4, lane = r & 15;
                ref int d = ref Unsafe.Add(ref MemoryMarshal.GetReference(panel), qb * pairs * 16 + lane);
                if (r >= np) { for (int j = 0; j < pairs; j++) Unsafe.Add(ref d, j * 16) = 0; continue; }
                int row = p0 + r, z = f32 ? aZeros[aZeros.Length == 1 ? 0 : row] : aZero;
                var ar = a.Slice(row * k, k);
                int j2 = 0;
                for (; 2 * j2 + 1 < k; j2++)
                    Unsafe.Add(ref d, j2 * 16) = (ushort)(short)(ar[2 * j2] - z) | (ar[2 * j2 + 1] - z) << 16;
                for (; j2 < pairs; j2++)
                    Unsafe.Add(ref d, j2 * 16) = 2 * j2 < k ? (ushort)(short)(ar[2 * j2] - z) : 0;
            }
            for (int n0 = 0; n0 < n; n0 += BlockN)
            {
                QConv.WidenBlock(packedW.Slice(n0 / BlockN * bb, bb), k4, wide);
                for (int c0 = n0; c0 < Math.Min(n, n0 + BlockN); c0 += 4)
                {
                    int nc = Math.Min(4, n - c0);
                    if (u8)
                        for (int cc = 0; cc < nc; cc++)
                        {
                            int pi = multiplier.Length == 1 ? 0 : c0 + cc;
                            rqs[cc] = new Requantization.UniformAvx2(multiplier[pi], shift[pi], yZero, qmin, qmax);
                        }
                    for (int q0 = 0; q0 < npad; q0 += 16)
                    {
                        QConv.MicroKernel(ref MemoryMarshal.GetReference(panel.Slice(q0 * pairs)), ref MemoryMarshal.GetReference(wide.Slice(c0 - n0)), pairs, ref accRef);
                        int count = Math.Min(16, np - q0), r0 = p0 + q0;
                        if (f32)
                            for (int r = 0; r < 16; r++) rowScale[r] = r < count ? aScales[aScales.Length == 1 ? 0 : r0 + r] : 0f;
                        for (int cc = 0; cc < nc; cc++)
                        {
                            var lo = Vector256.LoadUnsafe(ref accRef, (nuint)(cc * 16));
                            var hi = Vector256.LoadUnsafe(ref accRef, (nuint)(cc * 16 + 8));
                            int ch = c0 + cc;
                            if (f32)
                            {
                                var ws = Vector256.Create(wScale[wScale.Length == 1 ? 0 : ch]);
                                var bf = Vector256.Create(biasF.IsEmpty ? 0f : biasF[ch]);
                                ref float rs = ref MemoryMarshal.GetReference(rowScale);
                                Avx.Add(Avx.Multiply(Avx.Multiply(Avx.ConvertToVector256Single(lo), Vector256.LoadUnsafe(ref rs)), ws), bf).StoreUnsafe(ref MemoryMarshal.GetReference(f));
                                Avx.Add(Avx.Multiply(Avx.Multiply(Avx.ConvertToVector256Single(hi), Vector256.LoadUnsafe(ref rs, 8)), ws), bf).StoreUnsafe(ref MemoryMarshal.GetReference(f), 8);
                                for (int r = 0; r < count; r++) yF32[(r0 + r) * n + ch] = f[r];
                                continue;
                            }
                            if (!bias.IsEmpty) { var bv = Vector256.Create(bias[ch]); lo = Avx2.Add(lo, bv); hi = Avx2.Add(hi, bv); }
                            if (u8)
                            {
                                ref byte t = ref MemoryMarshal.GetReference(b16);
                                Requantization.StoreBytesAvx2(rqs[cc].Apply(lo), ref t);
                                Requantization.StoreBytesAvx2(rqs[cc].Apply(hi), ref Unsafe.Add(ref t, 8));
                                for (int r = 0; r < count; r++) yU8[(r0 + r) * n + ch] = b16[r];
                            }
                            else
                            {
                                lo.StoreUnsafe(ref MemoryMarshal.GetReference(i32));
                                hi.StoreUnsafe(ref MemoryMarshal.GetReference(i32), 8);
                                for (int r = 0; r < count; r++) yI32[(r0 + r) * n + ch] = i32[r];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Tests: <see cref="Requantization.UniformAvx2"/> over 8 accumulators (AVX2 only).</summary>
    internal static void RequantizeUniformForTest(ReadOnlySpan<int> acc8, int multiplier, int shift, int zOut, int qmin, int qmax, Span<int> out8)
    {
        var rq = new Requantization.UniformAvx2(multiplier, shift, zOut, qmin, qmax);
        rq.Apply(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(acc8))).StoreUnsafe(ref MemoryMarshal.GetReference(out8));
    }

    /// <summary>acc8[c] = sum_k (aRow[k] - aZero) * w[c, k] for the 8 channels of one packed block (modulo 2^32).</summary>
    internal static void AccRow(QIsa isa, ReadOnlySpan<byte> aRow, int aZero, ReadOnlySpan<sbyte> block, int k, Span<int> acc8)
    {
        switch (isa)
        {
            case QIsa.Avx2: AccRowAvx2(aRow, aZero, block, k, acc8); break;
            case QIsa.AdvSimd: AccRowArm(aRow, aZero, block, k, acc8); break;
            case QIsa.AdvSimdDot: AccRowDot(aRow, aZero, block, k, acc8); break;
            default: AccRowScalar(aRow, aZero, block, k, acc8); break;
        }
    }

    /// <summary>The specification: reads the same packed layout as the vector paths.</summary>
    internal static void AccRowScalar(ReadOnlySpan<byte> aRow, int aZero, ReadOnlySpan<sbyte> block, int k, Span<int> acc8)
    {
        for (int c = 0; c < BlockN; c++)
        {
            int s = 0;
            for (int kk = 0; kk < k; kk++) s += (aRow[kk] - aZero) * block[(kk >> 2) * 32 + c * 4 + (kk & 3)];
            acc8[c] = s;
        }
    }

    /// <summary>Bytes aRow[kk .. kk+4) as a little-endian uint, zero beyond k (the padded weights are zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Quad(ReadOnlySpan<byte> aRow, int kk, int k)
    {
        if (kk + 4 <= k) return Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref MemoryMarshal.GetReference(aRow), kk));
        uint u = 0;
        for (int j = 0; kk + j < k; j++) u |= (uint)aRow[kk + j] << (8 * j);
        return u;
    }

    private static void AccRowAvx2(ReadOnlySpan<byte> aRow, int aZero, ReadOnlySpan<sbyte> block, int k, Span<int> acc8)
    {
        ref byte a0 = ref MemoryMarshal.GetReference(aRow);
        ref sbyte w0 = ref MemoryMarshal.GetReference(block);
        var az = Vector256.Create((short)aZero);
        Vector256<int> lo = Vector256<int>.Zero, hi = Vector256<int>.Zero;
        int kk = 0;
        for (; kk + 16 <= k; kk += 16)
        {
            var a16 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref a0, (nuint)kk)), az).AsInt32();
            Step(ref lo, ref hi, Avx2.PermuteVar8x32(a16, Vector256.Create(0, 1, 0, 1, 0, 1, 0, 1)).AsInt16(), Vector256.LoadUnsafe(ref w0, (nuint)(kk * 8)));
            Step(ref lo, ref hi, Avx2.PermuteVar8x32(a16, Vector256.Create(2, 3, 2, 3, 2, 3, 2, 3)).AsInt16(), Vector256.LoadUnsafe(ref w0, (nuint)(kk * 8 + 32)));
            Step(ref lo, ref hi, Avx2.PermuteVar8x32(a16, Vector256.Create(4, 5, 4, 5, 4, 5, 4, 5)).AsInt16(), Vector256.LoadUnsafe(ref w0, (nuint)(kk * 8 + 64)));
            Step(ref lo, ref hi, Avx2.PermuteVar8x32(a16, Vector256.Create(6, 7, 6, 7, 6, 7, 6, 7)).AsInt16(), Vector256.LoadUnsafe(ref w0, (nuint)(kk * 8 + 96)));
        }
        for (; kk < k; kk += 4)
        {
            var a4 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.CreateScalar(Quad(aRow, kk, k)).AsByte()), az);
            Step(ref lo, ref hi, Avx2.Permute4x64(a4.AsInt64(), 0).AsInt16(), Vector256.LoadUnsafe(ref w0, (nuint)(kk * 8)));
        }
        // lo lanes: c0 c0 c1 c1 | c2 c2 c3 c3; hi: c4.. c7. hadd -> c0 c1 c4 c5 | c2 c3 c6 c7.
        var r = Avx2.Permute4x64(Avx2.HorizontalAdd(lo, hi).AsInt64(), 0xD8).AsInt32();
        r.StoreUnsafe(ref MemoryMarshal.GetReference(acc8));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Step(ref Vector256<int> lo, ref Vector256<int> hi, Vector256<short> aq, Vector256<sbyte> w)
        {
            // (a - aZero) in [-255, 255] and w in [-127, 127] as int16: vpmaddwd pair sums fit int32, nothing saturates.
            lo = Avx2.Add(lo, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w.GetLower()), aq));
            hi = Avx2.Add(hi, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w.GetUpper()), aq));
        }
    }

    private static void AccRowArm(ReadOnlySpan<byte> aRow, int aZero, ReadOnlySpan<sbyte> block, int k, Span<int> acc8)
    {
        ref byte a0 = ref MemoryMarshal.GetReference(aRow);
        ref sbyte w0 = ref MemoryMarshal.GetReference(block);
        var az = Vector128.Create((short)aZero);
        Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        int kk = 0;
        for (; kk + 8 <= k; kk += 8)
        {
            var a8 = AdvSimd.Subtract(AdvSimd.ZeroExtendWideningLower(Vector64.LoadUnsafe(ref a0, (nuint)kk)).AsInt16(), az);
            Quad4(a8.GetLower(), ref Unsafe.Add(ref w0, kk * 8), ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            Quad4(a8.GetUpper(), ref Unsafe.Add(ref w0, kk * 8 + 32), ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
        }
        for (; kk < k; kk += 4)
        {
            var a4 = AdvSimd.Subtract(AdvSimd.ZeroExtendWideningLower(Vector64.CreateScalar(Quad(aRow, kk, k)).AsByte()).AsInt16(), az);
            Quad4(a4.GetLower(), ref Unsafe.Add(ref w0, kk * 8), ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
        }
        var r0 = AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c0, c1), AdvSimd.Arm64.AddPairwise(c2, c3));
        var r1 = AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c4, c5), AdvSimd.Arm64.AddPairwise(c6, c7));
        r0.StoreUnsafe(ref MemoryMarshal.GetReference(acc8));
        r1.StoreUnsafe(ref MemoryMarshal.GetReference(acc8), 4);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Quad4(Vector64<short> aq, ref sbyte w, ref Vector128<int> c0, ref Vector128<int> c1, ref Vector128<int> c2, ref Vector128<int> c3,
            ref Vector128<int> c4, ref Vector128<int> c5, ref Vector128<int> c6, ref Vector128<int> c7)
        {
            var v0 = Vector128.LoadUnsafe(ref w);
            var v1 = Vector128.LoadUnsafe(ref w, 16);
            var w01 = AdvSimd.SignExtendWideningLower(v0.GetLower());
            var w23 = AdvSimd.SignExtendWideningUpper(v0);
            var w45 = AdvSimd.SignExtendWideningLower(v1.GetLower());
            var w67 = AdvSimd.SignExtendWideningUpper(v1);
            c0 = AdvSimd.MultiplyWideningLowerAndAdd(c0, w01.GetLower(), aq);
            c1 = AdvSimd.MultiplyWideningLowerAndAdd(c1, w01.GetUpper(), aq);
            c2 = AdvSimd.MultiplyWideningLowerAndAdd(c2, w23.GetLower(), aq);
            c3 = AdvSimd.MultiplyWideningLowerAndAdd(c3, w23.GetUpper(), aq);
            c4 = AdvSimd.MultiplyWideningLowerAndAdd(c4, w45.GetLower(), aq);
            c5 = AdvSimd.MultiplyWideningLowerAndAdd(c5, w45.GetUpper(), aq);
            c6 = AdvSimd.MultiplyWideningLowerAndAdd(c6, w67.GetLower(), aq);
            c7 = AdvSimd.MultiplyWideningLowerAndAdd(c7, w67.GetUpper(), aq);
        }
    }

    private static void AccRowDot(ReadOnlySpan<byte> aRow, int aZero, ReadOnlySpan<sbyte> block, int k, Span<int> acc8)
    {
        // s8 activations: a ^ 0x80 = a - 128, so sum (a - aZero) w = sum (a ^ 0x80) w - (aZero - 128) * sum w.
        ref byte a0 = ref MemoryMarshal.GetReference(aRow);
        ref sbyte w0 = ref MemoryMarshal.GetReference(block);
        var flip = Vector128.Create((byte)0x80);
        Vector128<int> lo = default, hi = default;
        int kk = 0;
        for (; kk + 16 <= k; kk += 16)
        {
            var av = AdvSimd.Xor(Vector128.LoadUnsafe(ref a0, (nuint)kk), flip).AsSByte();
            ref sbyte w = ref Unsafe.Add(ref w0, kk * 8);
            lo = Dp.DotProductBySelectedQuadruplet(lo, Vector128.LoadUnsafe(ref w), av, 0);
            hi = Dp.DotProductBySelectedQuadruplet(hi, Vector128.LoadUnsafe(ref w, 16), av, 0);
            lo = Dp.DotProductBySelectedQuadruplet(lo, Vector128.LoadUnsafe(ref w, 32), av, 1);
            hi = Dp.DotProductBySelectedQuadruplet(hi, Vector128.LoadUnsafe(ref w, 48), av, 1);
            lo = Dp.DotProductBySelectedQuadruplet(lo, Vector128.LoadUnsafe(ref w, 64), av, 2);
            hi = Dp.DotProductBySelectedQuadruplet(hi, Vector128.LoadUnsafe(ref w, 80), av, 2);
            lo = Dp.DotProductBySelectedQuadruplet(lo, Vector128.LoadUnsafe(ref w, 96), av, 3);
            hi = Dp.DotProductBySelectedQuadruplet(hi, Vector128.LoadUnsafe(ref w, 112), av, 3);
        }
        for (; kk < k; kk += 4)
        {
            var av = Vector128.Create(Quad(aRow, kk, k) ^ 0x80808080u).AsSByte();   // padded k: w = 0
            ref sbyte w = ref Unsafe.Add(ref w0, kk * 8);
            lo = Dp.DotProduct(lo, Vector128.LoadUnsafe(ref w), av);
            hi = Dp.DotProduct(hi, Vector128.LoadUnsafe(ref w, 16), av);
        }
        int k4 = (k + 3) & ~3;
        var sums = MemoryMarshal.Cast<sbyte, int>(block.Slice(k4 * BlockN, 32));
        var corr = Vector128.Create(aZero - 128);
        lo = AdvSimd.Subtract(lo, AdvSimd.Multiply(Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(sums)), corr));
        hi = AdvSimd.Subtract(hi, AdvSimd.Multiply(Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(sums), 4), corr));
        lo.StoreUnsafe(ref MemoryMarshal.GetReference(acc8));
        hi.StoreUnsafe(ref MemoryMarshal.GetReference(acc8), 4);
    }

    /// <summary>out8[c] = Requantize(acc8[c], mult8[c], shift8[c], ...) for 8 lanes.</summary>
    internal static void RequantizeBlock(QIsa isa, ReadOnlySpan<int> acc8, ReadOnlySpan<int> mult8, ReadOnlySpan<int> shift8, int zOut, int qmin, int qmax, Span<byte> out8)
    {
        ref int acc = ref MemoryMarshal.GetReference(acc8);
        ref int mul = ref MemoryMarshal.GetReference(mult8);
        ref int sh = ref MemoryMarshal.GetReference(shift8);
        if (isa == QIsa.Avx2)
        {
            var r = Requantization.RequantizeAvx2(Vector256.LoadUnsafe(ref acc), Vector256.LoadUnsafe(ref mul), Vector256.LoadUnsafe(ref sh), zOut, qmin, qmax);
            Requantization.StoreBytesAvx2(r, ref MemoryMarshal.GetReference(out8));
        }
        else if (isa is QIsa.AdvSimd or QIsa.AdvSimdDot)
        {
            var r0 = Requantization.RequantizeArm(Vector128.LoadUnsafe(ref acc), Vector128.LoadUnsafe(ref mul), Vector128.LoadUnsafe(ref sh), zOut, qmin, qmax);
            var r1 = Requantization.RequantizeArm(Vector128.LoadUnsafe(ref acc, 4), Vector128.LoadUnsafe(ref mul, 4), Vector128.LoadUnsafe(ref sh, 4), zOut, qmin, qmax);
            Requantization.StoreBytesArm(r0, r1, ref MemoryMarshal.GetReference(out8));
        }
        else
        {
            for (int c = 0; c < BlockN; c++) out8[c] = (byte)Requantization.Requantize(acc8[c], mult8[c], shift8[c], zOut, qmin, qmax);
        }
    }

    private static void DequantizeRow(QIsa isa, ReadOnlySpan<int> acc8, float aScale, ReadOnlySpan<float> ws, ReadOnlySpan<float> bf, Span<float> y)
    {
        Span<float> r = stackalloc float[BlockN];
        ref int acc = ref MemoryMarshal.GetReference(acc8);
        if (isa == QIsa.Avx2)
        {
            var v = Avx.Add(Avx.Multiply(Avx.Multiply(Avx.ConvertToVector256Single(Vector256.LoadUnsafe(ref acc)), Vector256.Create(aScale)),
                Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(ws))), Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(bf)));
            v.StoreUnsafe(ref MemoryMarshal.GetReference(r));
        }
        else if (isa is QIsa.AdvSimd or QIsa.AdvSimdDot)
        {
            for (int h = 0; h < BlockN; h += 4)
            {
                var v = AdvSimd.Add(AdvSimd.Multiply(AdvSimd.Multiply(AdvSimd.ConvertToSingle(Vector128.LoadUnsafe(ref acc, (nuint)h)), Vector128.Create(aScale)),
                    Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(ws), (nuint)h)), Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(bf), (nuint)h));
                v.StoreUnsafe(ref MemoryMarshal.GetReference(r), (nuint)h);
            }
        }
        else
        {
            for (int c = 0; c < BlockN; c++) r[c] = (float)acc8[c] * aScale * ws[c] + bf[c];
        }
        r.Slice(0, y.Length).CopyTo(y);
    }
}

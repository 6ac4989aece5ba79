using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// How <see cref="QGemm"/> and <see cref="QConv.Conv2D"/> weights are packed (Int8/README.md, "Packed layouts"). The compiler
/// picks one per target and the generated code passes it with the weights; a kernel given weights whose length does not match
/// the layout it is told throws.
/// </summary>
public enum QWeightLayout
{
    /// <summary><c>n8k4</c> blocks, each followed by its 8 channels' weight sums (int32): what the ARM64 dot-product path
    /// (<c>sdot</c>) needs for its zero-point correction. Every path reads it.</summary>
    N8K4Sums,
    /// <summary><c>n8k4</c> blocks without the sums (32 bytes less per 8 channels): for targets that cannot take the dot-product
    /// path. Every path reads it; on an ARM64 CPU with the dot-product extension the kernels run the AdvSimd path instead.</summary>
    N8K4,
}

/// <summary>
/// Int8 GEMM (ONNX QLinearMatMul/QGemm/MatMulInteger, and the core of <c>QConv</c>): u8 activations
/// a[m, k] with zero point aZero, symmetric s8 weights w[n, k] in [-127, 127] packed by <see cref="PackWeights"/>,
/// int32 accumulators acc[m, n] = sum_k (a[m, k] - aZero) * w[n, k] + bias[n].
/// Packed layouts (<see cref="QWeightLayout"/>): per block of 8 output channels, k padded to a multiple of 4, for each k-quad
/// the 8 channels' 4 weights (32 bytes: [c0 k0..3][c1 k0..3]...[c7 k0..3]); <see cref="QWeightLayout.N8K4Sums"/> then adds the
/// 8 channels' weight sums as little-endian int32 (32 bytes), which only the ARM64 dot-product path reads. Missing channels
/// and padded k are zero.
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

    /// <summary>Bytes of one 8-channel block: 8 * round_up(k, 4) weights, plus 8 int32 sums in <see cref="QWeightLayout.N8K4Sums"/>.</summary>
    internal static int BlockBytes(int k, QWeightLayout layout = QWeightLayout.N8K4Sums) => ((k + 3) & ~3) * BlockN + (layout == QWeightLayout.N8K4 ? 0 : 32);

    /// <summary>Length in bytes of the packed weights for n output channels and reduction size k in <paramref name="layout"/>.</summary>
    public static int PackedLength(int n, int k, QWeightLayout layout = QWeightLayout.N8K4Sums) => (n + BlockN - 1) / BlockN * BlockBytes(k, layout);

    /// <summary>Throws unless <paramref name="layout"/> is a defined layout.</summary>
    internal static void ValidateLayout(QWeightLayout layout, string kernel)
    {
        if (layout is not (QWeightLayout.N8K4Sums or QWeightLayout.N8K4))
            throw new ArgumentException($"{kernel}: unknown weight layout {(int)layout}.", nameof(layout));
    }

    /// <summary>The path that can read <paramref name="layout"/>: without the weight sums, the dot-product path runs AdvSimd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static QIsa PathFor(QIsa isa, QWeightLayout layout) => isa == QIsa.AdvSimdDot && layout == QWeightLayout.N8K4 ? QIsa.AdvSimd : isa;

    /// <summary>Packs w[n, k] (row-major: ONNX MatMul B transposed, or Gemm B with transB) into <paramref name="layout"/>.</summary>
    /// <exception cref="ArgumentException">Bad sizes, or a weight is -128 (weights are symmetric, in [-127, 127]).</exception>
    public static void PackWeights(ReadOnlySpan<sbyte> w, Span<sbyte> packed, int n, int k, QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        ValidateLayout(layout, "PackWeights");
        if (n < 0 || k < 1 || k > MaxK) throw new ArgumentException($"PackWeights: bad n={n}, k={k} (k in [1, {MaxK}]).", nameof(k));
        if (w.Length != (long)n * k) throw new ArgumentException($"PackWeights: w has {w.Length} elements, expected n*k = {(long)n * k}.", nameof(w));
        if (packed.Length != PackedLength(n, k, layout)) throw new ArgumentException($"PackWeights: packed has {packed.Length} bytes, expected {PackedLength(n, k, layout)} ({layout}).", nameof(packed));
        packed.Clear();
        bool sums = layout == QWeightLayout.N8K4Sums;
        int bb = BlockBytes(k, layout), k4 = (k + 3) & ~3;
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
            if (sums) MemoryMarshal.Write(MemoryMarshal.AsBytes(block.Slice(k4 * BlockN + c * 4, 4)), in sum);
        }
    }

    /// <summary>y[m, n] = clamp(yZero + RoundingShift(acc * multiplier[n], 31 + shift[n]), qmin, qmax) (edge-rne64);
    /// multiplier/shift have 1 (per tensor) or n (per channel) elements; bias is empty or n.</summary>
    /// <remarks><paramref name="layout"/> says how <paramref name="packedW"/> was packed (<see cref="PackWeights"/>); a length that
    /// does not match it is an <see cref="ArgumentException"/>.</remarks>
    public static void Run(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<byte> y,
        int m, int k, int n, ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax,
        QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        Validate(a, packedW, m, k, n, y.Length, "QGemm.Run", layout);
        ValidateZero(aZero, "QGemm.Run");
        if (bias.Length != 0 && bias.Length != n) throw new ArgumentException($"QGemm.Run: bias has {bias.Length} elements, expected 0 or {n}.", nameof(bias));
        Requantization.ValidateParams(multiplier, shift, n, yZero, qmin, qmax, "QGemm.Run");
        Core(QPaths.Best, a, aZero, default, default, packedW, bias, default, m, k, n, multiplier, shift, default, yZero, qmin, qmax, y, default, default, null, layout);
    }

    /// <summary>y[m, n] = acc (int32, bias included; MatMulInteger/ConvInteger).</summary>
    public static void RunInt32(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, Span<int> y, int m, int k, int n,
        QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        Validate(a, packedW, m, k, n, y.Length, "QGemm.RunInt32", layout);
        ValidateZero(aZero, "QGemm.RunInt32");
        if (bias.Length != 0 && bias.Length != n) throw new ArgumentException($"QGemm.RunInt32: bias has {bias.Length} elements, expected 0 or {n}.", nameof(bias));
        Core(QPaths.Best, a, aZero, default, default, packedW, bias, default, m, k, n, default, default, default, 0, 0, 0, default, y, default, null, layout);
    }

    /// <summary>
    /// Dynamic quantization (<c>Int8Dynamic</c>): y[m, n] = (float)acc * aScale[m] * wScale[n] + bias[n], evaluated left to
    /// right in float without fused multiply-add (acc excludes the bias). aZero/aScale have 1 or m elements (per tensor or per
    /// row, from <c>QLinear.QuantizeRowsDynamic</c>);
    /// wScale has 1 or n; bias is empty or n.
    /// </summary>
    public static void RunDequantized(ReadOnlySpan<byte> a, ReadOnlySpan<int> aZero, ReadOnlySpan<float> aScale, ReadOnlySpan<sbyte> packedW,
        ReadOnlySpan<float> wScale, ReadOnlySpan<float> bias, Span<float> y, int m, int k, int n, QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        Validate(a, packedW, m, k, n, y.Length, "QGemm.RunDequantized", layout);
        if (aZero.Length != 1 && aZero.Length != m) throw new ArgumentException($"QGemm.RunDequantized: aZero has {aZero.Length} elements, expected 1 or {m}.", nameof(aZero));
        if (aScale.Length != aZero.Length) throw new ArgumentException($"QGemm.RunDequantized: aScale has {aScale.Length} elements, expected {aZero.Length}.", nameof(aScale));
        foreach (int z in aZero) ValidateZero(z, "QGemm.RunDequantized");
        if (wScale.Length != 1 && wScale.Length != n) throw new ArgumentException($"QGemm.RunDequantized: wScale has {wScale.Length} elements, expected 1 or {n}.", nameof(wScale));
        if (bias.Length != 0 && bias.Length != n) throw new ArgumentException($"QGemm.RunDequantized: bias has {bias.Length} elements, expected 0 or {n}.", nameof(bias));
        Core(QPaths.Best, a, 0, aZero, aScale, packedW, default, bias, m, k, n, default, default, wScale, 0, 0, 0, default, default, y, null, layout);
    }

    internal static void Validate(ReadOnlySpan<byte> a, ReadOnlySpan<sbyte> packedW, int m, int k, int n, int yLength, string kernel, QWeightLayout layout)
    {
        ValidateLayout(layout, kernel);
        if (m < 0 || n < 0 || k < 1 || k > MaxK) throw new ArgumentException($"{kernel}: bad m={m}, k={k}, n={n} (k in [1, {MaxK}]).", nameof(k));
        if (a.Length != (long)m * k) throw new ArgumentException($"{kernel}: a has {a.Length} elements, expected m*k = {(long)m * k}.", nameof(a));
        if (packedW.Length != PackedLength(n, k, layout))
            throw new ArgumentException($"{kernel}: packedW has {packedW.Length} bytes, expected PackedLength(n, k, {layout}) = {PackedLength(n, k, layout)}"
                + (n > 0 && packedW.Length == PackedLength(n, k, Other(layout)) ? $" (the weights were packed as {Other(layout)}; pass that layout)." : "."), nameof(packedW));
        if (yLength != (long)m * n) throw new ArgumentException($"{kernel}: y has {yLength} elements, expected m*n = {(long)m * n}.", "y");
    }

    private static QWeightLayout Other(QWeightLayout layout) => layout == QWeightLayout.N8K4 ? QWeightLayout.N8K4Sums : QWeightLayout.N8K4;

    internal static void ValidateZero(int zero, string kernel)
    {
        if (zero < 0 || zero > 255) throw new ArgumentException($"{kernel}: activation zero point {zero} is not in [0, 255].", "aZero");
    }

    /// <summary>All three variants: exactly one of yU8 (multiplier/shift), yI32, yF32 (aZeros/aScales/wScale/biasF) is non-empty.</summary>
    internal static void Core(QIsa isa, ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<int> aZeros, ReadOnlySpan<float> aScales,
        ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, ReadOnlySpan<float> biasF, int m, int k, int n,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, ReadOnlySpan<float> wScale, int yZero, int qmin, int qmax,
        Span<byte> yU8, Span<int> yI32, Span<float> yF32, bool? wideTile = null, QWeightLayout layout = QWeightLayout.N8K4Sums)
    {
        isa = PathFor(isa, layout);
        int bb = BlockBytes(k, layout);
        if (isa == QIsa.Avx2 && m >= BlockedMinRows && BlockedTile(k) > 0)
        {
            CoreBlockedAvx2(a, aZero, aZeros, aScales, packedW, bias, biasF, m, k, n, multiplier, shift, wScale, yZero, qmin, qmax, yU8, yI32, yF32,
                wideTile ?? QConv.WideTile, bb);
            return;
        }
        if (isa == QIsa.Avx2 && !multiplier.IsEmpty && wScale.IsEmpty && k <= RowsMaxK)
        {
            RowsAvx2(a, aZero, packedW, bb, bias, m, k, n, multiplier, shift, yZero, qmin, qmax, yU8);
            return;
        }
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
    // The same micro-kernels as QConv's AVX2 path (8 channels x 8 lanes, or x 24 lanes with 32 vector registers; int16 pairs,
    // vpmaddwd): here the lanes are rows of a. A tile of rows is transposed into a panel of int16 pairs
    // (a[r, 2j] - aZero_r, a[r, 2j + 1] - aZero_r) (k past the end: 0) in blocks of 8 rows (panel[(r / 8) * pairs * 8 + j * 8 + r % 8]),
    // each 8-channel block of packed weights is widened once per tile, and the epilogue transposes each 8 x 8 block of
    // accumulators to rows (8 consecutive channels of y[row, n]) before the bias + requantization (per-lane multipliers and
    // shifts), int32, or the float dequantization in the scalar reference's order. Scratch is on the stack (at most
    // BlockedStackBytes); larger k runs the row path.

    internal const int BlockedMinRows = 16, BlockedStackBytes = 96 * 1024;

    /// <summary>Rows per tile of the blocked path for this k (a multiple of 8, 16 to 96), or 0 when its scratch does not fit.</summary>
    internal static int BlockedTile(int k)
    {
        int k4 = (k + 3) & ~3;
        int rows = (BlockedStackBytes - 16 * k4) / (2 * k4) & ~7;
        return rows < 16 ? 0 : Math.Min(rows, 96);
    }

    [SkipLocalsInit]
    private static void CoreBlockedAvx2(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<int> aZeros, ReadOnlySpan<float> aScales,
        ReadOnlySpan<sbyte> packedW, ReadOnlySpan<int> bias, ReadOnlySpan<float> biasF, int m, int k, int n,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, ReadOnlySpan<float> wScale, int yZero, int qmin, int qmax,
        Span<byte> yU8, Span<int> yI32, Span<float> yF32, bool wideTile, int bb)
    {
        bool f32 = !wScale.IsEmpty, u8 = !f32 && !multiplier.IsEmpty;
        int k4 = (k + 3) & ~3, pairs = k4 / 2, tile = BlockedTile(k);
        // Bounded by BlockedStackBytes (BlockedTile): 16 * k4 widened weights + 2 * k4 * tile panel.
        Span<byte> buf = stackalloc byte[16 * k4 + 2 * k4 * tile];
        var wide = MemoryMarshal.Cast<byte, int>(buf.Slice(0, 16 * k4));
        var panel = MemoryMarshal.Cast<byte, int>(buf.Slice(16 * k4, 2 * k4 * tile));
        Span<int> acc192 = stackalloc int[192];
        ref int accRef = ref MemoryMarshal.GetReference(acc192);
        Span<int> consts = stackalloc int[24];     // per block: multipliers, shifts, int32 biases (8 lanes each)
        Span<float> fconsts = stackalloc float[16]; // per block: wScale, float bias
        Span<byte> tail = stackalloc byte[32];
        for (int p0 = 0; p0 < m; p0 += tile)
        {
            int np = Math.Min(tile, m - p0), npad = (np + 7) & ~7;
            TransposeRows(a, aZero, aZeros, f32, p0, np, npad, k, pairs, panel);
            for (int n0 = 0; n0 < n; n0 += BlockN)
            {
                int nc = Math.Min(BlockN, n - n0);
                QConv.WidenBlock(packedW.Slice(n0 / BlockN * bb, bb), k4, wide);
                for (int c = 0; c < BlockN; c++)
                {
                    // Lanes past n repeat the last channel's constants (valid values; their results are not stored).
                    int ch = n0 + Math.Min(c, nc - 1);
                    if (u8) { int pi = multiplier.Length == 1 ? 0 : ch; consts[c] = multiplier[pi]; consts[8 + c] = shift[pi]; }
                    consts[16 + c] = bias.IsEmpty ? 0 : bias[ch];
                    if (f32) { fconsts[c] = wScale[wScale.Length == 1 ? 0 : ch]; fconsts[8 + c] = biasF.IsEmpty ? 0f : biasF[ch]; }
                }
                ref int cr = ref MemoryMarshal.GetReference(consts);
                ref float fr = ref MemoryMarshal.GetReference(fconsts);
                var multV = Vector256.LoadUnsafe(ref cr); var shiftV = Vector256.LoadUnsafe(ref cr, 8); var biasV = Vector256.LoadUnsafe(ref cr, 16);
                var wsV = Vector256.LoadUnsafe(ref fr); var bfV = Vector256.LoadUnsafe(ref fr, 8);
                for (int q0 = 0; q0 < np;)
                {
                    int blocks = wideTile && q0 + 24 <= npad ? 3 : 1;
                    if (blocks == 3) QConv.MicroKernel8x3(ref MemoryMarshal.GetReference(panel.Slice(q0 * pairs)), 8 * pairs, ref MemoryMarshal.GetReference(wide), pairs, ref accRef);
                    else QConv.MicroKernel8(ref MemoryMarshal.GetReference(panel.Slice(q0 * pairs)), ref MemoryMarshal.GetReference(wide), pairs, ref accRef);
                    for (int bi = 0; bi < blocks && q0 < np; bi++, q0 += 8)
                    {
                        // acc[bi * 64 + c * 8 + r] -> per row r: 8 channels.
                        ref int blk = ref Unsafe.Add(ref accRef, bi * 64);
                        Transpose8x8(ref blk);
                        int rows = Math.Min(8, np - q0);
                        for (int r = 0; r < rows; r++)
                        {
                            int row = p0 + q0 + r;
                            var v = Vector256.LoadUnsafe(ref blk, (nuint)(r * 8));
                            if (f32)
                            {
                                var fv = Avx.Add(Avx.Multiply(Avx.Multiply(Avx.ConvertToVector256Single(v), Vector256.Create(aScales[aScales.Length == 1 ? 0 : row])), wsV), bfV);
                                if (nc == BlockN) fv.StoreUnsafe(ref yF32[row * n + n0]);
                                else for (int c = 0; c < nc; c++) yF32[row * n + n0 + c] = fv.GetElement(c);
                                continue;
                            }
                            v = Avx2.Add(v, biasV);
                            if (u8)
                            {
                                var q = Requantization.RequantizeAvx2(v, multV, shiftV, yZero, qmin, qmax);
                                if (nc == BlockN) Requantization.StoreBytesAvx2(q, ref yU8[row * n + n0]);
                                else
                                {
                                    Requantization.StoreBytesAvx2(q, ref MemoryMarshal.GetReference(tail));
                                    tail.Slice(0, nc).CopyTo(yU8.Slice(row * n + n0, nc));
                                }
                            }
                            else if (nc == BlockN) v.StoreUnsafe(ref yI32[row * n + n0]);
                            else for (int c = 0; c < nc; c++) yI32[row * n + n0 + c] = v.GetElement(c);
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- AVX2: few rows (m < 16), u8 output
    //
    // The matrix-vector form the small models run (batch 1 Gemm): each row of a is widened once to int16 minus the zero point
    // (k padded with zeros to a multiple of 4) on the stack; per 8-channel block, each k-quad is one 64-bit broadcast of 4
    // widened activations against the block's 32 weight bytes sign-extended to two int16 vectors (vpmaddwd), with two
    // independent accumulator pairs; the epilogue adds the bias and requantizes with the per-lane (or broadcast per-tensor)
    // constants read in place, and stores 8 bytes straight to y (a ragged last block goes through a stack buffer).

    /// <summary>Largest k of <see cref="RowsAvx2"/> (its widened row is k int16 on the stack); larger k runs the row core.</summary>
    internal const int RowsMaxK = 8192;

    [SkipLocalsInit]
    private static void RowsAvx2(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<sbyte> packedW, int bb, ReadOnlySpan<int> bias, int m, int k, int n,
        ReadOnlySpan<int> multiplier, ReadOnlySpan<int> shift, int yZero, int qmin, int qmax, Span<byte> y)
    {
        int k4 = (k + 3) & ~3, quads = k4 / 4;
        Span<short> row = stackalloc short[k4];
        ref short r0 = ref MemoryMarshal.GetReference(row);
        ref long rq = ref Unsafe.As<short, long>(ref r0);
        ref byte a0 = ref MemoryMarshal.GetReference(a);
        ref sbyte w0 = ref MemoryMarshal.GetReference(packedW);
        ref byte y0 = ref MemoryMarshal.GetReference(y);
        ref int b0 = ref MemoryMarshal.GetReference(bias);
        ref int m0 = ref MemoryMarshal.GetReference(multiplier);
        ref int s0 = ref MemoryMarshal.GetReference(shift);
        bool uniform = multiplier.Length == 1, hasBias = !bias.IsEmpty;
        var mU = Vector256.Create(m0);
        var sU = Vector256.Create(s0);
        var az = Vector256.Create((short)aZero);
        Span<int> tail = stackalloc int[3 * BlockN];
        Span<byte> out8 = stackalloc byte[BlockN];
        for (int i = 0; i < m; i++)
        {
            ref byte ai = ref Unsafe.Add(ref a0, i * k);
            int kk = 0;
            for (; kk + 16 <= k; kk += 16)
                Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ai, (nuint)kk)), az).StoreUnsafe(ref r0, (nuint)kk);
            for (; kk < k; kk++) Unsafe.Add(ref r0, kk) = (short)(Unsafe.Add(ref ai, kk) - aZero);
            for (; kk < k4; kk++) Unsafe.Add(ref r0, kk) = 0;
            for (int n0 = 0; n0 < n; n0 += BlockN)
            {
                ref sbyte w = ref Unsafe.Add(ref w0, n0 / BlockN * bb);
                Vector256<int> lo0 = default, hi0 = default, lo1 = default, hi1 = default;
                int q = 0;
                for (; q + 2 <= quads; q += 2)
                {
                    var x0 = Vector256.Create(Unsafe.Add(ref rq, q)).AsInt16();
                    var x1 = Vector256.Create(Unsafe.Add(ref rq, q + 1)).AsInt16();
                    ref sbyte wq = ref Unsafe.Add(ref w, q * 32);
                    lo0 = Avx2.Add(lo0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wq)), x0));
                    hi0 = Avx2.Add(hi0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wq, 16)), x0));
                    lo1 = Avx2.Add(lo1, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wq, 32)), x1));
                    hi1 = Avx2.Add(hi1, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wq, 48)), x1));
                }
                if (q < quads)
                {
                    var x0 = Vector256.Create(Unsafe.Add(ref rq, q)).AsInt16();
                    ref sbyte wq = ref Unsafe.Add(ref w, q * 32);
                    lo0 = Avx2.Add(lo0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wq)), x0));
                    hi0 = Avx2.Add(hi0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref wq, 16)), x0));
                }
                // lo lanes: c0 c0 c1 c1 | c2 c2 c3 c3; hi: c4 .. c7. hadd -> c0 c1 c4 c5 | c2 c3 c6 c7.
                var acc = Avx2.Permute4x64(Avx2.HorizontalAdd(Avx2.Add(lo0, lo1), Avx2.Add(hi0, hi1)).AsInt64(), 0xD8).AsInt32();
                int nb = n - n0;
                Vector256<int> mv = mU, sv = sU;
                if (nb >= BlockN)
                {
                    if (hasBias) acc = Avx2.Add(acc, Vector256.LoadUnsafe(ref b0, (nuint)n0));
                    if (!uniform) { mv = Vector256.LoadUnsafe(ref m0, (nuint)n0); sv = Vector256.LoadUnsafe(ref s0, (nuint)n0); }
                    Requantization.StoreBytesAvx2(Requantization.RequantizeAvx2(acc, mv, sv, yZero, qmin, qmax), ref Unsafe.Add(ref y0, i * n + n0));
                    continue;
                }
                // Ragged last block: lanes past n get bias, multiplier and shift 0 (computed, not stored).
                tail.Clear();
                for (int c = 0; c < nb; c++)
                {
                    if (hasBias) tail[c] = Unsafe.Add(ref b0, n0 + c);
                    tail[BlockN + c] = uniform ? m0 : Unsafe.Add(ref m0, n0 + c);
                    tail[2 * BlockN + c] = uniform ? s0 : Unsafe.Add(ref s0, n0 + c);
                }
                ref int t0 = ref MemoryMarshal.GetReference(tail);
                acc = Avx2.Add(acc, Vector256.LoadUnsafe(ref t0));
                mv = Vector256.LoadUnsafe(ref t0, BlockN); sv = Vector256.LoadUnsafe(ref t0, 2 * BlockN);
                Requantization.StoreBytesAvx2(Requantization.RequantizeAvx2(acc, mv, sv, yZero, qmin, qmax), ref MemoryMarshal.GetReference(out8));
                out8.Slice(0, nb).CopyTo(y.Slice(i * n + n0, nb));
            }
        }
    }

    /// <summary>In place: m[c * 8 + r] becomes m[r * 8 + c] (an 8 x 8 int32 block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref int m)
    {
        var r0 = Vector256.LoadUnsafe(ref m); var r1 = Vector256.LoadUnsafe(ref m, 8);
        var r2 = Vector256.LoadUnsafe(ref m, 16); var r3 = Vector256.LoadUnsafe(ref m, 24);
        var r4 = Vector256.LoadUnsafe(ref m, 32); var r5 = Vector256.LoadUnsafe(ref m, 40);
        var r6 = Vector256.LoadUnsafe(ref m, 48); var r7 = Vector256.LoadUnsafe(ref m, 56);
        Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        r0.StoreUnsafe(ref m); r1.StoreUnsafe(ref m, 8); r2.StoreUnsafe(ref m, 16); r3.StoreUnsafe(ref m, 24);
        r4.StoreUnsafe(ref m, 32); r5.StoreUnsafe(ref m, 40); r6.StoreUnsafe(ref m, 48); r7.StoreUnsafe(ref m, 56);
    }

    /// <summary>Transposes the 8 x 8 int32 matrix whose rows are r0..r7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
        ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        var t0 = Avx2.UnpackLow(r0, r1); var t1 = Avx2.UnpackHigh(r0, r1);
        var t2 = Avx2.UnpackLow(r2, r3); var t3 = Avx2.UnpackHigh(r2, r3);
        var t4 = Avx2.UnpackLow(r4, r5); var t5 = Avx2.UnpackHigh(r4, r5);
        var t6 = Avx2.UnpackLow(r6, r7); var t7 = Avx2.UnpackHigh(r6, r7);
        var u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32(); var u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32(); var u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32(); var u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32(); var u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
        r0 = Avx2.Permute2x128(u0, u4, 0x20); r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r2 = Avx2.Permute2x128(u2, u6, 0x20); r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31); r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r6 = Avx2.Permute2x128(u2, u6, 0x31); r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>Rows p0 .. p0 + np of a into the panel (blocks of 8 rows; rows np .. npad and k past the end are 0): 8 rows
    /// at a time, 16 k per step widened to int16 minus the row's zero point and transposed as 8 x 8 int32 pairs.</summary>
    private static void TransposeRows(ReadOnlySpan<byte> a, int aZero, ReadOnlySpan<int> aZeros, bool perRow, int p0, int np, int npad,
        int k, int pairs, Span<int> panel)
    {
        ref byte a0 = ref MemoryMarshal.GetReference(a);
        ref int d0 = ref MemoryMarshal.GetReference(panel);
        Span<int> z8 = stackalloc int[8];
        for (int q0 = 0; q0 < npad; q0 += 8)
        {
            ref int d = ref Unsafe.Add(ref d0, q0 * pairs);
            int rows = Math.Min(8, np - q0);
            if (rows < 8)
            {
                // Ragged last block: the reference per element (missing rows are 0).
                for (int r = 0; r < 8; r++)
                {
                    if (r >= rows) { for (int j = 0; j < pairs; j++) Unsafe.Add(ref d, j * 8 + r) = 0; continue; }
                    int row = p0 + q0 + r, z = perRow ? aZeros[aZeros.Length == 1 ? 0 : row] : aZero;
                    PairsScalar(a.Slice(row * k, k), z, 0, pairs, ref d, r);
                }
                continue;
            }
            for (int r = 0; r < 8; r++) z8[r] = perRow ? aZeros[aZeros.Length == 1 ? 0 : p0 + q0 + r] : aZero;
            var z0 = Vector256.Create((short)z8[0]); var z1 = Vector256.Create((short)z8[1]);
            var z2 = Vector256.Create((short)z8[2]); var z3 = Vector256.Create((short)z8[3]);
            var z4 = Vector256.Create((short)z8[4]); var z5 = Vector256.Create((short)z8[5]);
            var z6 = Vector256.Create((short)z8[6]); var z7 = Vector256.Create((short)z8[7]);
            ref byte ar = ref Unsafe.Add(ref a0, (p0 + q0) * k);
            int kk = 0;
            for (; kk + 16 <= k; kk += 16)
            {
                var r0 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)kk)), z0).AsInt32();
                var r1 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)(k + kk))), z1).AsInt32();
                var r2 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)(2 * k + kk))), z2).AsInt32();
                var r3 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)(3 * k + kk))), z3).AsInt32();
                var r4 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)(4 * k + kk))), z4).AsInt32();
                var r5 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)(5 * k + kk))), z5).AsInt32();
                var r6 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)(6 * k + kk))), z6).AsInt32();
                var r7 = Avx2.Subtract(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ar, (nuint)(7 * k + kk))), z7).AsInt32();
                Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                ref int dj = ref Unsafe.Add(ref d, kk / 2 * 8);
                r0.StoreUnsafe(ref dj); r1.StoreUnsafe(ref dj, 8); r2.StoreUnsafe(ref dj, 16); r3.StoreUnsafe(ref dj, 24);
                r4.StoreUnsafe(ref dj, 32); r5.StoreUnsafe(ref dj, 40); r6.StoreUnsafe(ref dj, 48); r7.StoreUnsafe(ref dj, 56);
            }
            if (kk < k || kk / 2 < pairs)
                for (int r = 0; r < 8; r++)
                    PairsScalar(a.Slice((p0 + q0 + r) * k, k), z8[r], kk / 2, pairs, ref d, r);
        }
    }

    /// <summary>Panel entries d[j * 8 + lane] = (aRow[2j] - z, aRow[2j + 1] - z) as int16 pairs for j in [j0, pairs), 0 past k.</summary>
    private static void PairsScalar(ReadOnlySpan<byte> aRow, int z, int j0, int pairs, ref int d, int lane)
    {
        int k = aRow.Length, j = j0;
        for (; 2 * j + 1 < k; j++) Unsafe.Add(ref d, j * 8 + lane) = (ushort)(short)(aRow[2 * j] - z) | (aRow[2 * j + 1] - z) << 16;
        for (; j < pairs; j++) Unsafe.Add(ref d, j * 8 + lane) = 2 * j < k ? (ushort)(short)(aRow[2 * j] - z) : 0;
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

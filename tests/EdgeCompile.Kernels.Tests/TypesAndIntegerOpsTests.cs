using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Kernels.Tests.Support;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;
using CBF16 = EdgeCompile.Compiler.BFloat16;
using KBF16 = EdgeCompile.Kernels.BFloat16;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// The kernels behind float16/bfloat16/uint32/uint64 support (Cast, Compare, BinaryInteger, the BFloat16 struct),
/// the float-model integer operators (IntegerMatMul, IntegerConv), the training modes (Dropout,
/// BatchNormTraining) and LRN, each against the reference executor: bit-exact for integer and rounding results,
/// 1e-5 relative for float computations.
/// </summary>
public class TypesAndIntegerOpsTests
{
    private static Tensor Reference(GraphBuilder g, string output, DataType type, params (string Name, Tensor Value)[] feeds)
    {
        g.Output(output, type);
        foreach (var (name, value) in feeds) g.Input(name, value.DataType, value.Shape.Select(d => (long)d).ToArray());
        var outputs = new ReferenceExecutor(g.Build()).Run(feeds.ToDictionary(f => f.Name, f => f.Value));
        return outputs[output];
    }

    private static Tensor ReferenceCast(Tensor x, DataType to)
    {
        var g = new GraphBuilder();
        string y = g.Node("Cast", ["x"], 1, Int("to", (long)to))[0];
        return Reference(g, y, to, ("x", x));
    }

    /// <summary>Values that exercise rounding: ties at half and bfloat16 precision, overflow, tiny, NaN, infinities, signed zero.</summary>
    private static double[] RoundingCases(Random r)
    {
        var v = new List<double>
        {
            0, -0.0, 1, -1, 0.5, 1.5, 2.5, 65504, 65519.99, 65520, 70000, -70000, 6e-8, 3e-8, 1e-10, 1.0 / 3,
            1 + 1.0 / 256, 1 + 3.0 / 256, 1 + 1.0 / 2048, 1 + 3.0 / 2048, 1e38, 3.4e38, -3.4e38, double.NaN, double.PositiveInfinity, double.NegativeInfinity,
            255.5, 256, -128.7, 4294967295.0, 4294967296.5, -1e19, 2e19, 1.8e19,
        };
        for (int i = 0; i < 300; i++) v.Add((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-30, 40)));
        return [.. v];
    }

    [Fact]
    public void Cast_from_float_and_double_to_half_bfloat16_and_unsigned_matches_reference()
    {
        var r = new Random(11);
        var d = RoundingCases(r);
        var f = d.Select(v => (float)v).ToArray();
        foreach (var source in new[] { Tensor.FromArray(f, f.Length), Tensor.FromArray(d, d.Length) })
        {
            var h = new Half[d.Length]; var bf = new KBF16[d.Length]; var u32 = new uint[d.Length]; var u64 = new ulong[d.Length];
            if (source.DataType == DataType.Float) { Elementwise.Cast(f, h); Elementwise.Cast(f, bf); Elementwise.Cast(f, u32); Elementwise.Cast(f, u64); }
            else { Elementwise.Cast(d, h); Elementwise.Cast(d, bf); Elementwise.Cast(d, u32); Elementwise.Cast(d, u64); }
            string what = source.DataType.OnnxName();
            var eh = ReferenceCast(source, DataType.Float16).As<Half>();
            var ebf = ReferenceCast(source, DataType.BFloat16).As<CBF16>();
            var eu32 = ReferenceCast(source, DataType.UInt32).As<uint>();
            var eu64 = ReferenceCast(source, DataType.UInt64).As<ulong>();
            for (int i = 0; i < d.Length; i++)
            {
                Assert.True(BitConverter.HalfToUInt16Bits(eh[i]) == BitConverter.HalfToUInt16Bits(h[i]) || Half.IsNaN(eh[i]) && Half.IsNaN(h[i]), $"{what} {d[i]:R} -> float16: {h[i]} vs {eh[i]}");
                Assert.True(ebf[i].Bits == bf[i].Bits || float.IsNaN((float)ebf[i]) && float.IsNaN((float)bf[i]), $"{what} {d[i]:R} -> bfloat16: {bf[i]} vs {ebf[i]}");
                Assert.True(eu32[i] == u32[i], $"{what} {d[i]:R} -> uint32: {u32[i]} vs {eu32[i]}");
                Assert.True(eu64[i] == u64[i], $"{what} {d[i]:R} -> uint64: {u64[i]} vs {eu64[i]}");
            }
        }
    }

    [Fact]
    public void Cast_from_half_bfloat16_and_unsigned_matches_reference()
    {
        // Every float16 and bfloat16 bit pattern to float, double, int32 and uint8.
        var h = Enumerable.Range(0, 65536).Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).ToArray();
        var bf = Enumerable.Range(0, 65536).Select(i => KBF16.FromBits((ushort)i)).ToArray();
        var cbf = bf.Select(b => new CBF16(b.Bits)).ToArray();
        foreach (var (kernelInput, tensor) in new (Array, Tensor)[] { (h, Tensor.FromArray(h, h.Length)), (bf, Tensor.FromArray(cbf, cbf.Length)) })
        {
            var f = new float[65536]; var d = new double[65536]; var i32 = new int[65536]; var u8 = new byte[65536];
            if (kernelInput is Half[] hh) { Elementwise.Cast(hh, f); Elementwise.Cast(hh, d); Elementwise.Cast(hh, i32); Elementwise.Cast(hh, u8); }
            else { var bb = (KBF16[])kernelInput; Elementwise.Cast(bb, f); Elementwise.Cast(bb, d); Elementwise.Cast(bb, i32); Elementwise.Cast(bb, u8); }
            Assert.Equal(ReferenceCast(tensor, DataType.Float).As<float>(), f);
            Assert.Equal(ReferenceCast(tensor, DataType.Double).As<double>(), d);
            Assert.Equal(ReferenceCast(tensor, DataType.Int32).As<int>(), i32);
            Assert.Equal(ReferenceCast(tensor, DataType.UInt8).As<byte>(), u8);
        }
        // Large unsigned and signed integers to the float types: one rounding from the exact value.
        var r = new Random(5);
        var u64 = Enumerable.Range(0, 500).Select(i => i < 10 ? ulong.MaxValue - (ulong)i : ((ulong)r.NextInt64() << r.Next(0, 2)) | (uint)r.Next(0, 2)).ToArray();
        var l = u64.Select(v => unchecked((long)v)).ToArray();
        var u32 = u64.Select(v => unchecked((uint)v)).ToArray();
        var ut = Tensor.FromArray(u64, u64.Length);
        var lt = Tensor.FromArray(l, l.Length);
        var u32t = Tensor.FromArray(u32, u32.Length);
        foreach (var (to, check) in new (DataType, Action<Tensor, Array>)[]
        {
            (DataType.Float, (t, a) => Assert.Equal(ReferenceCast(t, DataType.Float).As<float>(), (float[])a)),
            (DataType.Double, (t, a) => Assert.Equal(ReferenceCast(t, DataType.Double).As<double>(), (double[])a)),
            (DataType.Float16, (t, a) => Assert.Equal(ReferenceCast(t, DataType.Float16).As<Half>().Select(BitConverter.HalfToUInt16Bits), ((Half[])a).Select(BitConverter.HalfToUInt16Bits))),
            (DataType.BFloat16, (t, a) => Assert.Equal(ReferenceCast(t, DataType.BFloat16).As<CBF16>().Select(b => b.Bits), ((KBF16[])a).Select(b => b.Bits))),
            (DataType.Int8, (t, a) => Assert.Equal(ReferenceCast(t, DataType.Int8).As<sbyte>(), (sbyte[])a)),
        })
        {
            foreach (var source in new[] { ut, lt, u32t })
            {
                Array y = to switch
                {
                    DataType.Float => new float[u64.Length], DataType.Double => new double[u64.Length], DataType.Float16 => new Half[u64.Length],
                    DataType.BFloat16 => new KBF16[u64.Length], _ => new sbyte[u64.Length],
                };
                CastInto(source, y);
                check(source, y);
            }
        }
    }

    private static void CastInto(Tensor source, Array y)
    {
        switch (source.DataType, y)
        {
            case (DataType.UInt64, float[] o): Elementwise.Cast(source.As<ulong>(), o.AsSpan()); break;
            case (DataType.UInt64, double[] o): Elementwise.Cast(source.As<ulong>(), o.AsSpan()); break;
            case (DataType.UInt64, Half[] o): Elementwise.Cast(source.As<ulong>(), o.AsSpan()); break;
            case (DataType.UInt64, KBF16[] o): Elementwise.Cast(source.As<ulong>(), o.AsSpan()); break;
            case (DataType.UInt64, sbyte[] o): Elementwise.Cast(source.As<ulong>(), o.AsSpan()); break;
            case (DataType.Int64, float[] o): Elementwise.Cast(source.As<long>(), o.AsSpan()); break;
            case (DataType.Int64, double[] o): Elementwise.Cast(source.As<long>(), o.AsSpan()); break;
            case (DataType.Int64, Half[] o): Elementwise.Cast(source.As<long>(), o.AsSpan()); break;
            case (DataType.Int64, KBF16[] o): Elementwise.Cast(source.As<long>(), o.AsSpan()); break;
            case (DataType.Int64, sbyte[] o): Elementwise.Cast(source.As<long>(), o.AsSpan()); break;
            case (DataType.UInt32, float[] o): Elementwise.Cast(source.As<uint>(), o.AsSpan()); break;
            case (DataType.UInt32, double[] o): Elementwise.Cast(source.As<uint>(), o.AsSpan()); break;
            case (DataType.UInt32, Half[] o): Elementwise.Cast(source.As<uint>(), o.AsSpan()); break;
            case (DataType.UInt32, KBF16[] o): Elementwise.Cast(source.As<uint>(), o.AsSpan()); break;
            case (DataType.UInt32, sbyte[] o): Elementwise.Cast(source.As<uint>(), o.AsSpan()); break;
            default: throw new InvalidOperationException();
        }
    }

    [Fact]
    public void BFloat16_struct_rounds_like_the_compiler_type()
    {
        var r = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            float f = BitConverter.Int32BitsToSingle(r.Next() ^ (r.Next(2) << 31));
            Assert.Equal(((CBF16)f).Bits, ((KBF16)f).Bits);
            double d = (r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-140, 130));
            Assert.Equal(Compiler.Operators.Common.UnaryHelpers.DoubleToBFloat16(d).Bits, ((KBF16)d).Bits);
        }
        for (int b = 0; b < 65536; b++)
        {
            float a = (float)KBF16.FromBits((ushort)b), e = (float)new CBF16((ushort)b);
            Assert.Equal(BitConverter.SingleToInt32Bits(e), BitConverter.SingleToInt32Bits(a));
        }
        Assert.Throws<ArgumentException>(() => Elementwise.Cast(new Half[3], new float[2]));
    }

    [Theory]
    [InlineData("Div")]
    [InlineData("Mod")]
    [InlineData("Sub")]
    [InlineData("Mul")]
    [InlineData("Less")]
    [InlineData("GreaterOrEqual")]
    public void Unsigned_arithmetic_and_comparisons_match_reference(string op)
    {
        var r = new Random(op.Length);
        var a64 = Enumerable.Range(0, 24).Select(i => i < 4 ? ulong.MaxValue - (ulong)i : (ulong)r.NextInt64() >> r.Next(0, 60)).ToArray();
        var b64 = Enumerable.Range(0, 4).Select(i => (ulong)r.NextInt64(1, long.MaxValue) >> r.Next(0, 62) | 1).ToArray();
        b64[0] = ulong.MaxValue;
        var a32 = a64.Select(v => unchecked((uint)v)).ToArray();
        var b32 = b64.Select(v => unchecked((uint)v) | 1).ToArray();
        int[] outShape = [6, 4], aStrides = [4, 1], bStrides = [0, 1];
        bool compare = op is "Less" or "GreaterOrEqual";
        var g = new GraphBuilder();
        string y = g.Node1(op, "a", "b");
        var t64 = Reference(g, y, compare ? DataType.Bool : DataType.UInt64, ("a", Tensor.FromArray(a64, 6, 4)), ("b", Tensor.FromArray(b64, 4)));
        g = new GraphBuilder();
        y = g.Node1(op, "a", "b");
        var t32 = Reference(g, y, compare ? DataType.Bool : DataType.UInt32, ("a", Tensor.FromArray(a32, 6, 4)), ("b", Tensor.FromArray(b32, 4)));
        if (compare)
        {
            var c = Enum.Parse<CompareOp>(op);
            var y64 = new bool[24]; var y32 = new bool[24];
            Elementwise.Compare(c, a64, b64, y64, outShape, aStrides, bStrides);
            Elementwise.Compare(c, a32, b32, y32, outShape, aStrides, bStrides);
            Assert.Equal(t64.As<bool>(), y64);
            Assert.Equal(t32.As<bool>(), y32);
        }
        else
        {
            var bo = Enum.Parse<BinaryOp>(op);
            var y64 = new ulong[24]; var y32 = new uint[24];
            Elementwise.BinaryInteger(bo, a64, b64, y64, outShape, aStrides, bStrides);
            Elementwise.BinaryInteger(bo, a32, b32, y32, outShape, aStrides, bStrides);
            Assert.Equal(t64.As<ulong>(), y64);
            Assert.Equal(t32.As<uint>(), y32);
        }
    }

    private static T[] Random8<T>(Random r, int n) where T : unmanaged =>
        typeof(T) == typeof(byte) ? (T[])(object)Enumerable.Range(0, n).Select(_ => (byte)r.Next(256)).ToArray()
        : (T[])(object)Enumerable.Range(0, n).Select(_ => (sbyte)r.Next(-128, 128)).ToArray();

    [Theory]
    [InlineData(false, false, 1, 5, 7, 3, false, false, false)]
    [InlineData(true, false, 3, 4, 6, 5, true, true, false)]
    [InlineData(false, true, 2, 3, 9, 4, true, false, true)]
    [InlineData(true, true, 2, 6, 8, 2, false, true, true)]
    public void IntegerMatMul_matches_MatMulInteger_and_QLinearMatMul(bool aSigned, bool bSigned, int batch, int m, int k, int n, bool perRow, bool perColumn, bool halfScales)
    {
        if (aSigned && bSigned) Check<sbyte, sbyte>(); else if (aSigned) Check<sbyte, byte>(); else if (bSigned) Check<byte, sbyte>(); else Check<byte, byte>();

        void Check<TA, TB>() where TA : unmanaged, System.Numerics.IBinaryInteger<TA> where TB : unmanaged, System.Numerics.IBinaryInteger<TB>
        {
            var r = new Random(batch * 100 + m * 10 + k);
            var a = Random8<TA>(r, batch * m * k);
            var b = Random8<TB>(r, k * n);             // one shared matrix (batch stride 0)
            var az = Random8<TA>(r, perRow ? m : 1);
            var bz = Random8<TB>(r, perColumn ? n : 1);
            var feeds = new (string, Tensor)[] { ("a", Tensor.FromArray(a, batch, m, k)), ("b", Tensor.FromArray(b, k, n)),
                ("az", Tensor.FromArray(az, perRow ? [m] : [])), ("bz", Tensor.FromArray(bz, perColumn ? [n] : [])) };
            var g = new GraphBuilder();
            string y = g.Node1("MatMulInteger", "a", "b", "az", "bz");
            var expected = Reference(g, y, DataType.Int32, feeds).As<int>();
            var actual = new int[batch * m * n];
            IntegerMatMul.Run<TA, TB>(a, az, b, bz, actual, batch, m, k, n, m * k, 0);
            Assert.Equal(expected, actual);

            // QLinearMatMul, u8 output, scales in float or float16.
            var aScale = Enumerable.Range(0, perRow ? m : 1).Select(_ => 0.01f + (float)r.NextDouble() * 0.05f).ToArray();
            var bScale = Enumerable.Range(0, perColumn ? n : 1).Select(_ => 0.01f + (float)r.NextDouble() * 0.05f).ToArray();
            float yScale = 0.3f; byte yZero = 117;
            Tensor S(float[] v, bool vector) => halfScales ? Tensor.FromArray(v.Select(x => (Half)x).ToArray(), vector ? [v.Length] : []) : Tensor.FromArray(v, vector ? [v.Length] : []);
            g = new GraphBuilder().Opset(21);
            y = g.Node1("QLinearMatMul", "a", "as", "az", "b", "bs", "bz", "ys", "yz");
            var q = Reference(g, y, DataType.UInt8, [.. feeds, ("as", S(aScale, perRow)), ("bs", S(bScale, perColumn)), ("ys", S([yScale], false)), ("yz", Tensor.Scalar(yZero))]).As<byte>();
            var qy = new byte[batch * m * n];
            if (halfScales)
                IntegerMatMul.QLinear<TA, TB, byte, Half>(a, aScale.Select(x => (Half)x).ToArray(), az, b, bScale.Select(x => (Half)x).ToArray(), bz, new[] { (Half)yScale }, new[] { yZero }, qy, batch, m, k, n, m * k, 0);
            else
                IntegerMatMul.QLinear<TA, TB, byte, float>(a, aScale, az, b, bScale, bz, new[] { yScale }, new[] { yZero }, qy, batch, m, k, n, m * k, 0);
            Assert.Equal(q, qy);
            Assert.Contains(qy, v => v != 0 && v != 255); // not everything saturated: the comparison means something
            Assert.Throws<ArgumentException>(() => IntegerMatMul.Run<TA, TB>(a, az, b, bz, new int[actual.Length - 1], batch, m, k, n, m * k, 0));
        }
    }

    [Fact]
    public void QLinear_kernels_round_ties_to_even_as_the_reference()
    {
        // Multiplier 0.5 (exact in float and float16): every odd accumulator is a tie.
        var r = new Random(17);
        var a = Enumerable.Range(0, 4 * 3).Select(_ => (byte)r.Next(0, 20)).ToArray();
        var b = Enumerable.Range(0, 3 * 5).Select(_ => (byte)r.Next(0, 20)).ToArray();
        var g = new GraphBuilder();
        string y = g.Node1("QLinearMatMul", "a", "as", "az", "b", "bs", "bz", "ys", "yz");
        var expected = Reference(g, y, DataType.UInt8, ("a", Tensor.FromArray(a, 4, 3)), ("as", Tensor.Scalar(1f)), ("az", Tensor.Scalar((byte)0)),
            ("b", Tensor.FromArray(b, 3, 5)), ("bs", Tensor.Scalar(0.5f)), ("bz", Tensor.Scalar((byte)0)), ("ys", Tensor.Scalar(4f)), ("yz", Tensor.Scalar((byte)0))).As<byte>();
        var actual = new byte[20];
        IntegerMatMul.QLinear<byte, byte, byte, float>(a, [1f], [(byte)0], b, [0.5f], [(byte)0], [4f], [(byte)0], actual, 1, 4, 3, 5, 0, 0);
        Assert.Equal(expected, actual);
        var acc = new int[20];
        IntegerMatMul.Run<byte, byte>(a, [], b, [], acc, 1, 4, 3, 5, 0, 0);
        Assert.Contains(acc, v => v % 8 == 4); // acc / 8 lands on .5 somewhere: a tie was exercised
        var conv = new byte[16];
        var cx = Enumerable.Range(0, 16).Select(i => (byte)(i * 3 % 17)).ToArray();
        IntegerConv.QLinear<byte, byte, byte, float>(cx, [0.5f], [(byte)0], [(byte)1], [1f], [(byte)0], [1f], [(byte)0], [], conv, 1, 1, 1, 1, [4, 4], [4, 4], [1, 1], [1, 1], [0, 0], [1, 1]);
        Assert.Equal(cx.Select(v => (byte)Math.Round(v * 0.5, MidpointRounding.ToEven)), conv);
    }

    [Theory]
    [InlineData(false, false, 1, 3, 4, 7, 6, 3, 1, 1, 1, false)]
    [InlineData(true, false, 2, 4, 6, 9, 8, 3, 2, 1, 2, true)]
    [InlineData(false, true, 1, 6, 6, 8, 8, 2, 1, 0, 3, true)]
    [InlineData(true, true, 1, 2, 2, 5, 5, 5, 1, 2, 1, false)]
    public void IntegerConv_matches_ConvInteger_and_QLinearConv(bool xSigned, bool wSigned, int n, int c, int m, int h, int w, int k, int stride, int pad, int group, bool perChannel)
    {
        if (xSigned && wSigned) Check<sbyte, sbyte>(); else if (xSigned) Check<sbyte, byte>(); else if (wSigned) Check<byte, sbyte>(); else Check<byte, byte>();

        void Check<TX, TW>() where TX : unmanaged, System.Numerics.IBinaryInteger<TX> where TW : unmanaged, System.Numerics.IBinaryInteger<TW>
        {
            if (c % group != 0 || m % group != 0) throw new ArgumentException("bad test case");
            var r = new Random(c * 1000 + m * 100 + h);
            var x = Random8<TX>(r, n * c * h * w);
            var wt = Random8<TW>(r, m * (c / group) * k * k);
            var xz = Random8<TX>(r, 1);
            var wz = Random8<TW>(r, perChannel ? m : 1);
            int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
            var attrs = new[] { Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad), Int("group", group) };
            var feeds = new (string, Tensor)[] { ("x", Tensor.FromArray(x, n, c, h, w)), ("w", Tensor.FromArray(wt, m, c / group, k, k)),
                ("xz", Tensor.FromArray(xz, [])), ("wz", Tensor.FromArray(wz, perChannel ? [m] : [])) };
            int[] geometryIn = [h, w], geometryOut = [oh, ow], kernel = [k, k], strides = [stride, stride], pads = [pad, pad], dilations = [1, 1];
            if (!perChannel)
            {
                // ConvInteger takes a per-tensor w zero point only up to the spec's "scalar or 1-D": the 1-D case is QLinearConv's.
                var g = new GraphBuilder();
                string y = g.Node("ConvInteger", ["x", "w", "xz", "wz"], 1, attrs)[0];
                var expected = Reference(g, y, DataType.Int32, feeds).As<int>();
                var actual = new int[n * m * oh * ow];
                IntegerConv.Run<TX, TW>(x, xz, wt, wz, actual, n, c, m, group, geometryIn, geometryOut, kernel, strides, pads, dilations);
                Assert.Equal(expected, actual);
                Assert.Throws<ArgumentException>(() => IntegerConv.Run<TX, TW>(x, xz, wt, wz, new int[actual.Length + 1], n, c, m, group, geometryIn, geometryOut, kernel, strides, pads, dilations));
            }
            var ws = Enumerable.Range(0, perChannel ? m : 1).Select(_ => 0.005f + (float)r.NextDouble() * 0.02f).ToArray();
            var bias = Enumerable.Range(0, m).Select(_ => r.Next(-2000, 2000)).ToArray();
            float xs = 0.05f, ys = 0.2f; sbyte yz = -3;
            var g2 = new GraphBuilder();
            string q = g2.Node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"], 1, attrs)[0];
            var eq = Reference(g2, q, DataType.Int8, [.. feeds, ("xs", Tensor.Scalar(xs)), ("ws", Tensor.FromArray(ws, perChannel ? [m] : [])),
                ("ys", Tensor.Scalar(ys)), ("yz", Tensor.Scalar(yz)), ("bias", Tensor.FromArray(bias, m))]).As<sbyte>();
            var aq = new sbyte[n * m * oh * ow];
            IntegerConv.QLinear<TX, TW, sbyte, float>(x, new[] { xs }, xz, wt, ws, wz, new[] { ys }, new[] { yz }, bias, aq, n, c, m, group, geometryIn, geometryOut, kernel, strides, pads, dilations);
            Assert.Equal(eq, aq);
            Assert.Contains(aq, v => v != sbyte.MinValue && v != sbyte.MaxValue);
        }
    }

    [Theory]
    [InlineData(0.75f, true, 0L)]
    [InlineData(0.3f, true, 1234L)]
    [InlineData(0.5f, false, 0L)]
    [InlineData(0f, true, 7L)]
    public void Dropout_matches_reference_mask_and_values(float ratio, bool training, long seed)
    {
        var r = new Random(9);
        var x = Check.Data(r, 3 * 4 * 5, -3, 3);
        var g = new GraphBuilder();
        var outs = g.Node("Dropout", ["x", "ratio", "mode"], 2, seed == 0 ? [] : [Int("seed", seed)]);
        g.Output(outs[1], DataType.Bool);
        var feeds = new (string, Tensor)[] { ("x", Tensor.FromArray(x, 3, 4, 5)), ("ratio", Tensor.Scalar(ratio)), ("mode", Tensor.Scalar(training)) };
        g.Output(outs[0], DataType.Float);
        foreach (var (name, value) in feeds) g.Input(name, value.DataType, value.Shape.Select(d => (long)d).ToArray());
        var expected = new ReferenceExecutor(g.Build()).Run(feeds.ToDictionary(f => f.Item1, f => f.Item2));
        var y = new float[x.Length];
        var mask = new bool[x.Length];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Dropout.Run(x, [ratio], [training], y, mask, seed);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(expected[outs[0]].As<float>(), y);
        Assert.Equal(expected[outs[1]].As<bool>(), mask);
        if (training && ratio > 0) Assert.Contains(mask, k => !k);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Run(x, [1f], [true], y, mask, seed));
        Assert.Throws<ArgumentException>(() => Dropout.Run(x, [ratio], [training], y, new bool[1], seed));
    }

    [Fact]
    public void BatchNormTraining_matches_reference_outputs_and_running_statistics()
    {
        var r = new Random(21);
        int n = 3, c = 4, h = 2, w = 5;
        var x = Check.Data(r, n * c * h * w, -2, 3);
        var scale = Check.Data(r, c); var bias = Check.Data(r, c); var mean = Check.Data(r, c);
        var variance = Check.Data(r, c, 0.5f, 2f);
        var g = new GraphBuilder().Opset(15);
        var outs = g.Node("BatchNormalization", ["x", "s", "b", "m", "v"], 3, Int("training_mode", 1), Float("epsilon", 1e-3f), Float("momentum", 0.8f));
        g.Output(outs[1], DataType.Float); g.Output(outs[2], DataType.Float);
        var feeds = new (string, Tensor)[] { ("x", Tensor.FromArray(x, n, c, h, w)), ("s", Tensor.FromArray(scale, c)), ("b", Tensor.FromArray(bias, c)),
            ("m", Tensor.FromArray(mean, c)), ("v", Tensor.FromArray(variance, c)) };
        g.Output(outs[0], DataType.Float);
        foreach (var (name, value) in feeds) g.Input(name, value.DataType, value.Shape.Select(d => (long)d).ToArray());
        var expected = new ReferenceExecutor(g.Build()).Run(feeds.ToDictionary(f => f.Item1, f => f.Item2));
        var y = new float[x.Length]; var rm = new float[c]; var rv = new float[c];
        BatchNormTraining.Run(x, scale, bias, mean, variance, y, rm, rv, n, c, h * w, 1e-3f, 0.8f);
        Support.Check.Close(expected[outs[0]].As<float>(), y, "BatchNormTraining y", 1e-5f, 1e-6f);
        Support.Check.Close(expected[outs[1]].As<float>(), rm, "running mean", 1e-6f, 1e-7f);
        Support.Check.Close(expected[outs[2]].As<float>(), rv, "running var", 1e-6f, 1e-7f);
        Assert.Throws<ArgumentException>(() => BatchNormTraining.Run(x, scale, bias, mean, variance, y, rm, new float[c - 1], n, c, h * w, 1e-3f, 0.8f));
    }

    [Theory]
    [InlineData("Softmax", 1)]
    [InlineData("LogSoftmax", 2)]
    [InlineData("Softmax", 0)]
    public void Float64_softmax_matches_reference(string op, int axis)
    {
        var r = new Random(axis + op.Length);
        int[] shape = [3, 4, 5];
        var x = Enumerable.Range(0, 60).Select(_ => (r.NextDouble() - 0.5) * 40).ToArray();
        x[7] = double.NegativeInfinity;
        var g = new GraphBuilder();
        string y = g.Node(op, ["x"], 1, Int("axis", axis))[0];
        var expected = Reference(g, y, DataType.Double, ("x", Tensor.FromArray(x, shape))).As<double>();
        var actual = new double[60];
        int outer = shape.Take(axis).Aggregate(1, (a, b) => a * b), inner = shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        Normalization.Softmax(x, actual, outer, shape[axis], inner, op == "LogSoftmax");
        Assert.Equal(expected, actual);
        Assert.Throws<ArgumentException>(() => Normalization.Softmax(x, new double[59], outer, shape[axis], inner, false));
    }

    [Theory]
    [InlineData(3, 1e-4f, 0.75f, 1f)]
    [InlineData(4, 2e-3f, 0.5f, 2f)]
    [InlineData(1, 1e-1f, 1f, 0.5f)]
    public void Lrn_matches_reference(int size, float alpha, float beta, float bias)
    {
        var r = new Random(size);
        int n = 2, c = 7, h = 3, w = 4;
        var x = Check.Data(r, n * c * h * w, -4, 4);
        var g = new GraphBuilder();
        string y = g.Node("LRN", ["x"], 1, Int("size", size), Float("alpha", alpha), Float("beta", beta), Float("bias", bias))[0];
        var expected = Reference(g, y, DataType.Float, ("x", Tensor.FromArray(x, n, c, h, w))).As<float>();
        var actual = new float[x.Length];
        Lrn.Run(x, actual, n, c, h * w, size, alpha, beta, bias);
        Support.Check.Close(expected, actual, "LRN", 1e-6f, 1e-7f);
        Assert.Throws<ArgumentException>(() => Lrn.Run(x, new float[1], n, c, h * w, size, alpha, beta, bias));
    }
}

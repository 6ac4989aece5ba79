using CsCheck;
using EdgeCompile.Compiler;
using static EdgeCompile.Tests.Support.GraphBuilder;
using DT = EdgeCompile.Compiler.DataType;

namespace EdgeCompile.Tests.OrtOracle;

/// <summary>
/// Property-based comparison with ONNX Runtime (CsCheck): random shapes (rank 0-4, dims 1-5), broadcastable
/// shape pairs/triples (derived from one base shape by dropping leading dims and replacing dims with 1), random
/// values, random axes, permutations and keepdims. On failure CsCheck shrinks the case and prints it together with
/// a seed; set it with the CsCheck_Seed environment variable (or the seed argument) to replay.
/// Iterations are modest (100 per property) and single-threaded: each iteration creates an ORT session.
/// </summary>
public class OrtPropertyTests
{
    private const int Iter = 100;

    // ---------------- generators ----------------

    private static int Size(int[] s) { int n = 1; foreach (var d in s) n *= d; return n; }

    private static Gen<int[]> GenShape(int minRank = 0, int maxRank = 4) =>
        Gen.Int[minRank, maxRank].SelectMany(r => Gen.Int[1, 5].Array[r]);

    /// <summary>A shape that broadcasts to <paramref name="s"/>: some leading dims dropped, some dims replaced by 1.</summary>
    private static Gen<int[]> Derive(int[] s) =>
        Gen.Int[0, s.Length].SelectMany(drop =>
            Gen.Int[0, 2].Array[s.Length - drop].Select(m => s.Skip(drop).Select((d, i) => m[i] == 0 ? 1 : d).ToArray()));

    private static Gen<float[]> Values(int[] shape, Gen<float> elem) => elem.Array[Size(shape)];

    /// <summary>Nonzero divisors: magnitude in [0.25, 10] with a random sign.</summary>
    private static readonly Gen<float> NonZero = Gen.Select(Gen.Float[0.25f, 10f], Gen.Bool, (v, neg) => neg ? -v : v);

    private static Tensor T(int[] shape, float[] data) => new(DT.Float, shape, data);

    private static void Sample<TCase>(Gen<TCase> gen, Action<TCase> check) => gen.Sample(check, iter: Iter, threads: 1);

    private static void Compare(OracleCase c) => OracleAssert.SameAsOrt(c.Build(), c.Inputs, c.Rtol, c.Atol);

    // ---------------- elementwise binary with broadcasting ----------------

    private static void BinaryProperty(string op, Gen<float> a, Gen<float> b) =>
        Sample(GenShape().SelectMany(s => Gen.Select(Derive(s), Derive(s)))
                .SelectMany(p => Gen.Select(Values(p.Item1, a), Values(p.Item2, b), (x, y) => (A: p.Item1, X: x, B: p.Item2, Y: y))),
            t =>
            {
                var c = new OracleCase(0);
                c.Out(c.Op(op, [c.In(T(t.A, t.X)), c.In(T(t.B, t.Y))]));
                Compare(c);
            });

    [Fact] public void Add() => BinaryProperty("Add", Gen.Float[-10f, 10f], Gen.Float[-10f, 10f]);
    [Fact] public void Sub() => BinaryProperty("Sub", Gen.Float[-10f, 10f], Gen.Float[-10f, 10f]);
    [Fact] public void Mul() => BinaryProperty("Mul", Gen.Float[-10f, 10f], Gen.Float[-10f, 10f]);
    [Fact] public void Div() => BinaryProperty("Div", Gen.Float[-10f, 10f], NonZero);
    [Fact] public void Max() => BinaryProperty("Max", Gen.Float[-10f, 10f], Gen.Float[-10f, 10f]);
    [Fact] public void Min() => BinaryProperty("Min", Gen.Float[-10f, 10f], Gen.Float[-10f, 10f]);
    [Fact] public void PowPositiveBase() => BinaryProperty("Pow", Gen.Float[0.1f, 5f], Gen.Float[-3f, 3f]);

    [Fact]
    public void WhereBroadcastsThreeWays() =>
        Sample(GenShape().SelectMany(s => Gen.Select(Derive(s), Derive(s), Derive(s)))
                .SelectMany(p => Gen.Select(Gen.Bool.Array[Size(p.Item1)], Values(p.Item2, Gen.Float[-10f, 10f]), Values(p.Item3, Gen.Float[-10f, 10f]),
                    (cond, x, y) => (CS: p.Item1, C: cond, XS: p.Item2, X: x, YS: p.Item3, Y: y))),
            t =>
            {
                var c = new OracleCase(0);
                c.Out(c.Op("Where", [c.In(new Tensor(DT.Bool, t.CS, t.C)), c.In(T(t.XS, t.X)), c.In(T(t.YS, t.Y))]));
                Compare(c);
            });

    /// <summary>Integer Add/Sub/Mul/Max/Min with broadcasting must match exactly (values small enough not to overflow).</summary>
    [Theory]
    [InlineData("Add", DT.Int32)]
    [InlineData("Sub", DT.Int64)]
    [InlineData("Mul", DT.Int32)]
    [InlineData("Max", DT.Int64)]
    [InlineData("Min", DT.Int32)]
    public void IntegerBinaryIsExact(string op, DT type) =>
        Sample(GenShape().SelectMany(s => Gen.Select(Derive(s), Derive(s)))
                .SelectMany(p => Gen.Select(Gen.Long[-30000, 30000].Array[Size(p.Item1)], Gen.Long[-30000, 30000].Array[Size(p.Item2)],
                    (x, y) => (A: p.Item1, X: x, B: p.Item2, Y: y))),
            t =>
            {
                var c = new OracleCase(0);
                c.Out(c.Op(op, [c.In(Tensor.FromInt64s(type, t.A, t.X)), c.In(Tensor.FromInt64s(type, t.B, t.Y))]), type);
                Compare(c);
            });

    private static readonly DT[] IntegerTypes = [DT.Int8, DT.UInt8, DT.Int16, DT.UInt16, DT.Int32, DT.UInt32, DT.Int64];
    private static readonly DT[] CastTargets = [DT.Float, DT.Double, DT.Int64, DT.Int32, DT.UInt8, DT.Bool];

    /// <summary>Cast from every integer type (full value range) to float, double, wider/narrower integers and bool.</summary>
    [Fact]
    public void CastFromIntegerTypes() =>
        Sample(Gen.Select(Gen.OneOf(IntegerTypes), Gen.OneOf(CastTargets), GenShape(maxRank: 2))
                .SelectMany(p => Gen.Long.Array[Size(p.Item3)].Select(v => (From: p.Item1, To: p.Item2, S: p.Item3, V: v))),
            t =>
            {
                var c = new OracleCase(0);
                c.Out(c.Op("Cast", [c.In(Tensor.FromInt64s(t.From, t.S, t.V))], Int("to", (long)t.To)), t.To); // FromInt64s wraps to the type's width
                Compare(c);
            });

    // ---------------- data movement ----------------

    [Fact]
    public void TransposeWithRandomPermutation() =>
        Sample(GenShape().SelectMany(s => Gen.Select(Gen.Shuffle(Enumerable.Range(0, s.Length).ToArray()), Gen.Bool, Values(s, Gen.Float[-10f, 10f]),
                (perm, useDefault, x) => (S: s, Perm: perm, Default: useDefault && s.Length > 0, X: x))),
            t =>
            {
                var c = new OracleCase(0);
                string x = c.In(T(t.S, t.X));
                c.Out(t.Default ? c.Op("Transpose", [x]) : c.Op("Transpose", [x], Ints("perm", t.Perm.Select(p => (long)p).ToArray())));
                Compare(c);
            });

    [Fact]
    public void ConcatAlongRandomAxis() =>
        Sample(GenShape(minRank: 1).SelectMany(s => Gen.Select(Gen.Int[-s.Length, s.Length - 1], Gen.Int[1, 5].Array[1, 3], (axis, lengths) =>
                {
                    int a = axis < 0 ? axis + s.Length : axis;
                    return (Axis: axis, Shapes: lengths.Select(n => s.Select((d, i) => i == a ? n : d).ToArray()).ToArray());
                }))
                .SelectMany(p => Values([p.Shapes.Sum(Size)], Gen.Float[-10f, 10f]).Select(all => new ConcatCase(p.Axis, p.Shapes, Split(all, p.Shapes)))),
            t =>
            {
                var c = new OracleCase(0);
                var ins = t.Shapes.Select((s, i) => c.In(T(s, t.Values[i]))).ToArray();
                c.Out(c.Op("Concat", ins, Int("axis", t.Axis)));
                Compare(c);
            });

    private static float[][] Split(float[] all, int[][] shapes)
    {
        var r = new float[shapes.Length][];
        int at = 0;
        for (int i = 0; i < shapes.Length; i++) { r[i] = all[at..(at + Size(shapes[i]))]; at += r[i].Length; }
        return r;
    }

    private sealed record ConcatCase(int Axis, int[][] Shapes, float[][] Values)
    {
        public override string ToString() =>
            $"axis={Axis} shapes={string.Join(" ", Shapes.Select(Compiler.Shapes.Format))} values={string.Join(" | ", Values.Select(v => string.Join(",", v)))}";
    }

    // ---------------- reductions ----------------

    /// <summary>A random subset of the axes of rank <paramref name="rank"/>, each written as i or i - rank.</summary>
    private static Gen<long[]> GenAxes(int rank) =>
        Gen.Int[0, 2].Array[rank].Select(m => Enumerable.Range(0, rank).Where(i => m[i] != 0).Select(i => (long)(m[i] == 2 ? i - rank : i)).ToArray());

    [Fact]
    public void ReduceSumWithRandomAxesAndKeepdims() =>
        Sample(GenShape().SelectMany(s => Gen.Select(GenAxes(s.Length), Gen.Bool, Gen.Bool, Values(s, Gen.Float[-10f, 10f]),
                (axes, keep, omitEmpty, x) => (S: s, Axes: axes, Keep: keep, OmitAxesInput: omitEmpty && axes.Length == 0, X: x))),
            t =>
            {
                var c = new OracleCase(0);
                string x = c.In(T(t.S, t.X));
                string[] ins = t.OmitAxesInput ? [x] : [x, c.Const(Tensor.FromArray(t.Axes, t.Axes.Length))];
                c.Out(c.Op("ReduceSum", ins, Int("keepdims", t.Keep ? 1 : 0)));
                c.Atol = 1e-4; // sums of up to 625 values in [-10, 10]: summation order differs
                Compare(c);
            });

    [Fact]
    public void ReduceMaxWithRandomAxesAndKeepdims() =>
        Sample(GenShape().SelectMany(s => Gen.Select(GenAxes(s.Length), Gen.Bool, Gen.Bool, Values(s, Gen.Float[-10f, 10f]),
                (axes, keep, opset18, x) => (S: s, Axes: axes, Keep: keep, Opset18: opset18, X: x))),
            t =>
            {
                var c = new OracleCase(0);
                string x = c.In(T(t.S, t.X));
                if (t.Opset18)
                {
                    // Opset 18: axes is an input; an absent/empty axes reduces everything (noop_with_empty_axes = 0).
                    c.Opset(18);
                    string[] ins = t.Axes.Length == 0 ? [x] : [x, c.Const(Tensor.FromArray(t.Axes, t.Axes.Length))];
                    c.Out(c.Op("ReduceMax", ins, Int("keepdims", t.Keep ? 1 : 0)));
                }
                else if (t.Axes.Length == 0)
                    c.Out(c.Op("ReduceMax", [x], Int("keepdims", t.Keep ? 1 : 0)));
                else
                    c.Out(c.Op("ReduceMax", [x], Ints("axes", t.Axes), Int("keepdims", t.Keep ? 1 : 0)));
                Compare(c);
            });

    // ---------------- softmax ----------------

    [Fact]
    public void SoftmaxAlongRandomAxis() =>
        Sample(GenShape(minRank: 1).SelectMany(s => Gen.Select(Gen.Int[-s.Length, s.Length - 1], Values(s, Gen.Float[-20f, 20f]),
                (axis, x) => (S: s, Axis: axis, X: x))),
            t =>
            {
                var c = new OracleCase(0);
                c.Out(c.Op("Softmax", [c.In(T(t.S, t.X))], Int("axis", t.Axis)));
                Compare(c);
            });
}

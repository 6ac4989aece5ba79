using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Tests.Support;
using Attribute = EdgeCompile.Compiler.IR.Attribute;

namespace EdgeCompile.Tests.OrtOracle;

/// <summary>
/// One oracle graph under construction: a <see cref="GraphBuilder"/> plus the input values fed to both
/// executors, and a seeded random source so every case is reproducible.
/// </summary>
public sealed class OracleCase(int seed)
{
    public GraphBuilder B { get; } = new();
    public Dictionary<string, Tensor> Inputs { get; } = new(StringComparer.Ordinal);
    public Random R { get; } = new(seed);
    public double Rtol { get; set; } = OracleAssert.Rtol;
    public double Atol { get; set; } = OracleAssert.Atol;
    private int _n;

    public OracleCase Opset(long v) { B.Opset(v); return this; }

    /// <summary>A graph input fed with <paramref name="value"/>.</summary>
    public string In(Tensor value, string? name = null)
    {
        name ??= $"x{_n++}";
        B.Input(name, value.DataType, value.Shape.Select(d => (long)d).ToArray());
        Inputs[name] = value;
        return name;
    }

    /// <summary>An initializer (constant weight).</summary>
    public string Const(Tensor value, string? name = null) => B.Initializer(name ?? $"c{_n++}", value);

    public string Op(string opType, string[] inputs, params Attribute[] attrs) => B.Node(opType, inputs, 1, attrs)[0];
    public string[] OpN(string opType, string[] inputs, int outputs, params Attribute[] attrs) => B.Node(opType, inputs, outputs, attrs);

    public OracleCase Out(string name, DataType type = DataType.Float) { B.Output(name, type); return this; }

    public Tensor F(params int[] shape) => Floats(-2, 2, shape);

    public Tensor Floats(double lo, double hi, params int[] shape)
    {
        var d = new float[checked((int)Shapes.Product(shape))];
        for (int i = 0; i < d.Length; i++) d[i] = (float)(lo + (hi - lo) * R.NextDouble());
        return new Tensor(DataType.Float, shape, d);
    }

    public Tensor D(params int[] shape)
    {
        var d = new double[checked((int)Shapes.Product(shape))];
        for (int i = 0; i < d.Length; i++) d[i] = -2 + 4 * R.NextDouble();
        return new Tensor(DataType.Double, shape, d);
    }

    /// <summary>Integers in [lo, hi] of <paramref name="type"/>.</summary>
    public Tensor Ints(DataType type, long lo, long hi, params int[] shape)
    {
        var d = new long[checked((int)Shapes.Product(shape))];
        for (int i = 0; i < d.Length; i++) d[i] = R.NextInt64(lo, hi + 1);
        return Tensor.FromInt64s(type, shape, d);
    }

    public Tensor Bools(params int[] shape)
    {
        var d = new bool[checked((int)Shapes.Product(shape))];
        for (int i = 0; i < d.Length; i++) d[i] = R.Next(2) == 1;
        return new Tensor(DataType.Bool, shape, d);
    }

    public static Tensor I64(params long[] v) => Tensor.FromArray(v, v.Length);
    public static Tensor F32(params float[] v) => Tensor.FromArray(v, v.Length);

    public Model Build() => B.Build();
}

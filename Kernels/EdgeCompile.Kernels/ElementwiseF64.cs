namespace EdgeCompile.Kernels;

/// <summary>Double-precision unary operators (scalar; System.Math throughout).</summary>
public static partial class Elementwise
{
    /// <summary>
    /// y = op(x) in double precision (p0/p1 as in <see cref="UnaryOp"/>). Supports every operator except Erf, Gelu
    /// and GeluTanh (ArgumentOutOfRangeException).
    /// </summary>
    /// <exception cref="ArgumentException">x and y lengths differ.</exception>
    public static void Unary(UnaryOp op, ReadOnlySpan<double> x, Span<double> y, float p0, float p1)
    {
        if (x.Length != y.Length) throw new ArgumentException($"Unary: x has {x.Length} elements, y {y.Length}.", nameof(y));
        if (!SupportsF64(op)) throw new ArgumentOutOfRangeException(nameof(op), op, "Unary: no double-precision implementation.");
        for (int i = 0; i < x.Length; i++) y[i] = UnaryScalarF64(op, x[i], p0, p1);
    }

    /// <summary>Whether <see cref="Unary(UnaryOp, ReadOnlySpan{double}, Span{double}, float, float)"/> implements the operator.</summary>
    public static bool SupportsF64(UnaryOp op) => op is not (UnaryOp.Erf or UnaryOp.Gelu or UnaryOp.GeluTanh);

    internal static double UnaryScalarF64(UnaryOp op, double x, double p0, double p1) => op switch
    {
        UnaryOp.Copy => x,
        UnaryOp.Relu => Math.Max(x, 0.0),
        UnaryOp.LeakyRelu => x < 0 ? p0 * x : x,
        UnaryOp.Clip => Math.Min(Math.Max(x, p0), p1),
        UnaryOp.Sigmoid => x >= 0 ? 1.0 / (1.0 + Math.Exp(-x)) : Math.Exp(x) / (1.0 + Math.Exp(x)),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.HardSigmoid => Math.Max(0.0, Math.Min(1.0, p0 * x + p1)),
        UnaryOp.HardSwish => x * Math.Max(0.0, Math.Min(1.0, x / 6.0 + 0.5)),
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Reciprocal => 1.0 / x,
        UnaryOp.Neg => -x,
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Floor => Math.Floor(x),
        UnaryOp.Ceil => Math.Ceiling(x),
        UnaryOp.Round => Math.Round(x, MidpointRounding.ToEven),
        UnaryOp.Softplus => x > 0 ? x + Math.Log(1.0 + Math.Exp(-x)) : Math.Log(1.0 + Math.Exp(x)),
        UnaryOp.Softsign => x / (1.0 + Math.Abs(x)),
        UnaryOp.Elu => x < 0 ? p0 * (Math.Exp(x) - 1.0) : x,
        UnaryOp.Selu => x > 0 ? p1 * x : p1 * (p0 * Math.Exp(x) - p0),
        UnaryOp.Mish => x * Math.Tanh(x > 0 ? x + Math.Log(1.0 + Math.Exp(-x)) : Math.Log(1.0 + Math.Exp(x))),
        UnaryOp.Sin => Math.Sin(x),
        UnaryOp.Cos => Math.Cos(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}

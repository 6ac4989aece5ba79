using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeCompile.Kernels;

/// <summary>
/// An activation fused into the epilogue of <see cref="Conv.Conv2D"/> and <see cref="Gemm.Run"/>.
/// Parameters: <see cref="Clip"/> clamps to [p0, p1]; <see cref="LeakyRelu"/> uses p0 = alpha;
/// <see cref="HardSigmoid"/> uses p0 = alpha, p1 = beta. The others ignore p0 and p1.
/// </summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None,
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>min(max(x, p0), p1).</summary>
    Clip,
    /// <summary>x &lt; 0 ? p0 * x : x.</summary>
    LeakyRelu,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>max(0, min(1, p0 * x + p1)).</summary>
    HardSigmoid,
    /// <summary>x * max(0, min(1, x / 6 + 0.5)).</summary>
    HardSwish,
}

/// <summary>Scalar definitions of the fused activations and their row-wise application.</summary>
internal static class ActivationKernel
{
    /// <summary>The scalar reference (ONNX semantics).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(Activation act, float x, float p0, float p1) => act switch
    {
        Activation.None => x,
        Activation.Relu => MathF.Max(x, 0f),
        Activation.Clip => MathF.Min(MathF.Max(x, p0), p1),
        Activation.LeakyRelu => x < 0f ? p0 * x : x,
        Activation.Sigmoid => Sigmoid(x),
        Activation.Tanh => MathF.Tanh(x),
        Activation.HardSigmoid => MathF.Max(0f, MathF.Min(1f, p0 * x + p1)),
        Activation.HardSwish => x * MathF.Max(0f, MathF.Min(1f, x / 6f + 0.5f)),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>1 / (1 + e^-x) without overflow for large |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        if (x >= 0f) return 1f / (1f + MathF.Exp(-x));
        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    /// <summary>Applies <paramref name="act"/> to every element of <paramref name="y"/> in place.</summary>
    public static void ApplyInPlace(Activation act, Span<float> y, float p0, float p1, Isa isa)
    {
        if (act == Activation.None) return;
        int i = 0;
        ref float r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        // Only the piecewise-linear activations have vector forms; the transcendental ones stay scalar
        // (MathF.Exp/Tanh), so they are bit-exact with the reference.
        bool linear = act is Activation.Relu or Activation.Clip or Activation.LeakyRelu or Activation.HardSigmoid or Activation.HardSwish;
        if (linear && isa == Isa.Vector256)
        {
            var vp0 = Vector256.Create(p0); var vp1 = Vector256.Create(p1);
            for (; i <= y.Length - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)i);
                Apply256(act, v, vp0, vp1).StoreUnsafe(ref r, (nuint)i);
            }
        }
        else if (linear && isa >= Isa.Vector128)
        {
            var vp0 = Vector128.Create(p0); var vp1 = Vector128.Create(p1);
            for (; i <= y.Length - 4; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref r, (nuint)i);
                Apply128(act, v, vp0, vp1).StoreUnsafe(ref r, (nuint)i);
            }
        }
        for (; i < y.Length; i++) y[i] = Apply(act, y[i], p0, p1);
    }

    // Max(zero, v) (zero first) keeps a NaN in v as NaN on x64 (maxps returns the second operand on NaN),
    // like MathF.Max does.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply256(Activation act, Vector256<float> v, Vector256<float> p0, Vector256<float> p1)
    {
        switch (act)
        {
            case Activation.Relu: return Vector256.Max(Vector256<float>.Zero, v);
            case Activation.Clip: return Vector256.Min(p1, Vector256.Max(p0, v));
            case Activation.LeakyRelu: return Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), p0 * v, v);
            case Activation.HardSigmoid:
                return Vector256.Max(Vector256<float>.Zero, Vector256.Min(Vector256.Create(1f), p0 * v + p1));
            case Activation.HardSwish:
                var g = Vector256.Max(Vector256<float>.Zero, Vector256.Min(Vector256.Create(1f), v / Vector256.Create(6f) + Vector256.Create(0.5f)));
                return v * g;
            default: return v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Apply128(Activation act, Vector128<float> v, Vector128<float> p0, Vector128<float> p1)
    {
        switch (act)
        {
            case Activation.Relu: return Vector128.Max(Vector128<float>.Zero, v);
            case Activation.Clip: return Vector128.Min(p1, Vector128.Max(p0, v));
            case Activation.LeakyRelu: return Vector128.ConditionalSelect(Vector128.LessThan(v, Vector128<float>.Zero), p0 * v, v);
            case Activation.HardSigmoid:
                return Vector128.Max(Vector128<float>.Zero, Vector128.Min(Vector128.Create(1f), p0 * v + p1));
            case Activation.HardSwish:
                var g = Vector128.Max(Vector128<float>.Zero, Vector128.Min(Vector128.Create(1f), v / Vector128.Create(6f) + Vector128.Create(0.5f)));
                return v * g;
            default: return v;
        }
    }
}

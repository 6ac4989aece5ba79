using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>The instruction-set paths a kernel can take, widest first in preference.</summary>
internal enum Isa
{
    /// <summary>The scalar reference: the specification every other path is tested against.</summary>
    Scalar,
    /// <summary>128-bit vectors (SSE on x64, AdvSimd on ARM64), FMA where present.</summary>
    Vector128,
    /// <summary>256-bit vectors (AVX/AVX2 on x64), FMA where present.</summary>
    Vector256,
}

/// <summary>
/// The one place that chooses a path. Every public kernel is a dispatcher over <see cref="Best"/>;
/// the internal per-path entry points take an <see cref="Isa"/> so tests can force each path without
/// global switches (tests run in parallel). <c>DOTNET_EnableAVX2=0</c> / <c>DOTNET_EnableHWIntrinsic=0</c>
/// force the fallbacks for a whole process.
/// </summary>
internal static class KernelPaths
{
    /// <summary>The widest path this machine accelerates.</summary>
    public static Isa Best
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector256.IsHardwareAccelerated ? Isa.Vector256
             : Vector128.IsHardwareAccelerated ? Isa.Vector128
             : Isa.Scalar;
    }

    /// <summary>Whether <paramref name="isa"/> can run here (tests skip the others).</summary>
    public static bool IsSupported(Isa isa) => isa switch
    {
        Isa.Vector256 => Vector256.IsHardwareAccelerated,
        Isa.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };
}

/// <summary>Small SIMD helpers shared by the kernels: fused multiply-add where the CPU has it.</summary>
internal static class Simd
{
    /// <summary>a * b + c, fused (one rounding) when FMA is available, else two roundings.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>a * b + c, fused (one rounding) when FMA (x64) or AdvSimd (ARM64) is available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        if (AdvSimd.IsSupported) return AdvSimd.FusedMultiplyAdd(c, a, b);
        return a * b + c;
    }
}

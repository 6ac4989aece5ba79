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
    /// <summary>
    /// <see cref="Vector256"/> plus 512-bit register tiles in the float GEMM core (AVX-512F). Only the GEMM entry points
    /// (<see cref="Gemm"/>, the GEMM-based <see cref="Conv"/> paths) take it; they hand every other kernel
    /// <see cref="IsaExtensions.General"/> (<see cref="Vector256"/>). See <see cref="KernelPaths.BestGemm"/>.
    /// </summary>
    Vector512,
}

internal static class IsaExtensions
{
    /// <summary>The path for kernels without 512-bit code: <see cref="Isa.Vector512"/> runs their <see cref="Isa.Vector256"/> path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Isa General(this Isa isa) => isa == Isa.Vector512 ? Isa.Vector256 : isa;
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

    /// <summary>
    /// The path of the float GEMM core: <see cref="Isa.Vector512"/> where AVX-512F is accelerated. On Zen 4 a 512-bit FMA
    /// issues as two 256-bit halves, so the peak is AVX2's, but an 8x16 tile of zmm accumulators reaches it with half the
    /// instructions of the 4x16 ymm tile (docs/kernels.md, "Float GEMM and convolution paths"). Else <see cref="Best"/>.
    /// </summary>
    public static Isa BestGemm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? Isa.Vector512 : Best;
    }

    /// <summary>Whether <paramref name="isa"/> can run here (tests skip the others).</summary>
    public static bool IsSupported(Isa isa) => isa switch
    {
        Isa.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
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

    /// <summary>a * b + c, fused (one rounding); callers run it only where AVX-512F is supported.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MulAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c)
        => Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, c) : a * b + c;

    /// <summary>a * b + c, fused (one rounding) when FMA (x64) or AdvSimd (ARM64) is available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MulAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        if (AdvSimd.IsSupported) return AdvSimd.FusedMultiplyAdd(c, a, b);
        return a * b + c;
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels;

/// <summary>
/// The instruction-set paths of the int8 kernels. Exactly the paths that run in CI ship:
/// x64 <see cref="Avx2"/> (and <see cref="Scalar"/> under <c>DOTNET_EnableAVX2=0</c>), ARM64 AdvSimd
/// (qemu <c>-cpu cortex-a53</c>) and AdvSimd + Dp (qemu <c>-cpu max</c>). See Int8/README.md.
/// </summary>
internal enum QIsa
{
    /// <summary>The scalar reference: the specification.</summary>
    Scalar,
    /// <summary>x64 AVX2 (256-bit), u8 activations widened to int16, <c>vpmaddwd</c> (never saturates).</summary>
    Avx2,
    /// <summary>ARM64 AdvSimd without the dot-product extension: u8 widened to int16, <c>smlal</c>.</summary>
    AdvSimd,
    /// <summary>ARM64 AdvSimd + Dp (<c>sdot</c>): activations converted to s8 by xor 0x80, zero point corrected with packed weight sums.</summary>
    AdvSimdDot,
}

/// <summary>Chooses the int8 path; internal per-path entry points take a <see cref="QIsa"/> so tests force each one.</summary>
internal static class QPaths
{
    public static QIsa Best
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Avx2.IsSupported ? QIsa.Avx2
             : AdvSimd.Arm64.IsSupported ? (Dp.IsSupported ? QIsa.AdvSimdDot : QIsa.AdvSimd)
             : QIsa.Scalar;
    }

    public static bool IsSupported(QIsa isa) => isa switch
    {
        QIsa.Avx2 => Avx2.IsSupported,
        QIsa.AdvSimd => AdvSimd.Arm64.IsSupported,
        QIsa.AdvSimdDot => AdvSimd.Arm64.IsSupported && Dp.IsSupported,
        _ => true,
    };

    /// <summary>Kernels without a dot-product-specific path run their AdvSimd path under <see cref="QIsa.AdvSimdDot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static QIsa NoDot(QIsa isa) => isa == QIsa.AdvSimdDot ? QIsa.AdvSimd : isa;
}

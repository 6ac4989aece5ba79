using System.Runtime.Intrinsics.X86;

namespace EdgeCompile.Kernels.Tests;

/// <summary>
/// CI runs these tests again with runtime knobs that turn instruction sets off (DOTNET_EnableAVX2=0, DOTNET_EnableAVX512=0)
/// to execute the paths of smaller machines. A knob the runtime does not know is silently ignored (.NET 10 ignores the
/// older DOTNET_EnableAVX512F, which left AVX-512 on in such a run), so each run proves its knob took effect.
/// </summary>
public class RuntimeKnobTests
{
    [Fact]
    public void Instruction_set_knobs_in_the_environment_took_effect()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
            Assert.False(Avx2.IsSupported, "DOTNET_EnableAVX2=0 is set but Avx2.IsSupported is true");
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0")
            Assert.False(Avx512F.IsSupported, "DOTNET_EnableAVX512=0 is set but Avx512F.IsSupported is true");
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512F") == "0")
            Assert.False(Avx512F.IsSupported, "DOTNET_EnableAVX512F=0 is set but Avx512F.IsSupported is true: this runtime ignores that knob, use DOTNET_EnableAVX512=0");
    }
}

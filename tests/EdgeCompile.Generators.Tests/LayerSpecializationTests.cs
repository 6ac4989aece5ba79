using EdgeCompile.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using static EdgeCompile.Generators.Tests.Support.GeneratorHarness;

namespace EdgeCompile.Generators.Tests;

/// <summary>Which Gemm.Run calls the generator specializes per layer (docs/edgeplan.md, docs/kernels.md).</summary>
public class LayerSpecializationTests
{
    private static string Generated(string plan)
    {
        var (result, _) = Run([Plan("/repo/obj/EdgeCompile/TinyNet.edgeplan", plan)]);
        Assert.Empty(result.Diagnostics);
        return Assert.Single(result.Results[0].GeneratedSources).SourceText.ToString();
    }

    [Fact]
    public void A_Gemm_call_with_literal_constants_gets_a_layer_struct()
    {
        string code = Generated(ReadPlan("TinyNet.edgeplan"));
        Assert.Contains("global::EdgeCompile.Kernels.Gemm.Run<EdgeLayer1>(", code);
        Assert.Contains("private struct EdgeLayer1 : global::EdgeCompile.Kernels.IGemmLayer", code);
        Assert.Contains("public static float Beta => 0.5f;", code);
        Assert.Contains("public static global::EdgeCompile.Kernels.Activation Act => global::EdgeCompile.Kernels.Activation.Relu;", code);
    }

    [Fact]
    public void A_Gemm_call_whose_arguments_do_not_fit_the_layer_interface_is_emitted_as_written()
    {
        // The same call with m written as a long: not the Gemm.Run signature the interface mirrors, so no struct.
        string plan = ReadPlan("TinyNet.edgeplan").Replace(
            "a:f32:256:10 i:1 i:64 i:10 b:false", "a:f32:256:10 l:1 i:64 i:10 b:false", StringComparison.Ordinal);
        string code = Generated(plan);
        Assert.DoesNotContain("EdgeLayer", code);
        Assert.Contains("global::EdgeCompile.Kernels.Gemm.Run(global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(arena.Slice(0, 256))", code);
        Assert.Contains(", 1L, 64, 10, false, true, 1f, 0.5f, 1, 10, global::EdgeCompile.Kernels.Activation.Relu, 0f, 0f);", code);
    }
}

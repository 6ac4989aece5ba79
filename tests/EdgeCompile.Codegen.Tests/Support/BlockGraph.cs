using EdgeCompile.TestSupport;

namespace EdgeCompile.Codegen.Tests.Support;

/// <summary>The CNN blocks of the int8 and multi-threading tests: <see cref="RandomGraph"/> with their seed base and conv bias spread.</summary>
internal static class BlockGraph
{
    public static RandomGraph New(int seed) => new("int8block", 20261123 + seed, "Int8BlocksTests", convBiasStd: 0.05);
}

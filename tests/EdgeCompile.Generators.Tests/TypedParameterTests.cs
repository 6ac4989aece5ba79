using System.Reflection;
using System.Runtime.Loader;
using EdgeCompile.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;
using static EdgeCompile.Generators.Tests.Support.GeneratorHarness;

namespace EdgeCompile.Generators.Tests;

/// <summary>
/// The plan dtypes f16, bf16, u32 and u64 map to Run parameters of System.Half, EdgeCompile.Kernels.BFloat16, uint and
/// ulong (and to arena slices, weights and empty spans of those types): the generated class compiles without warnings
/// against the kernel stub and runs, moving each value through the arena to its output.
/// </summary>
public class TypedParameterTests
{
    // The real kernels library defines BFloat16 (a 2-byte struct over the bit pattern) and Data.Copy<T>; the stub has
    // Data.Copy<T>, this adds the struct and a probe for empty spans.
    private const string StubExtras = """
        #pragma warning disable CS1591
        using System;

        namespace EdgeCompile.Kernels
        {
            public readonly struct BFloat16
            {
                public BFloat16(ushort bits) => Bits = bits;
                public ushort Bits { get; }
            }

            public static class Check
            {
                public static void Empty(ReadOnlySpan<Half> a, ReadOnlySpan<BFloat16> b, ReadOnlySpan<uint> c, ReadOnlySpan<ulong> d)
                    => CallLog.Record("Check.Empty", a.Length + b.Length + c.Length + d.Length);
            }
        }
        """;

    private const string Driver = """
        using System;

        /// <summary>Test driver.</summary>
        public static class TypedDriver
        {
            /// <summary>Runs TypedNet; returns the outputs, the constants and the parameter types.</summary>
            public static object[] Run(Half[] half, ushort[] brainBits, uint[] small, ulong[] big)
            {
                var brain = Array.ConvertAll(brainBits, static b => new EdgeCompile.Kernels.BFloat16(b));
                var halfOut = new Half[Test.Typed.TypedNet.HalfOutLength];
                var brainOut = new EdgeCompile.Kernels.BFloat16[Test.Typed.TypedNet.BrainOutLength];
                var smallOut = new uint[Test.Typed.TypedNet.SmallOutLength];
                var bigOut = new ulong[Test.Typed.TypedNet.BigOutLength];
                var bigWeights = new ulong[Test.Typed.TypedNet.BigWeightsLength];
                new Test.Typed.TypedNet().Run(half, brain, small, big, halfOut, brainOut, smallOut, bigOut, bigWeights);
                return new object[] { halfOut, Array.ConvertAll(brainOut, static b => b.Bits), smallOut, bigOut,
                    EdgeCompile.Kernels.CallLog.Calls.FindLast(static c => c.StartsWith("Check.Empty", StringComparison.Ordinal))! };
            }
        }
        """;

    [Fact]
    public void Half_bfloat16_uint_and_ulong_parameters_compile_and_run()
    {
        var (result, output) = Run([Plan("/repo/obj/TypedNet.edgeplan", ReadPlan("TypedNet.edgeplan"))], null, KernelsStub.Source, StubExtras, Driver);
        Assert.Empty(result.Diagnostics);
        var problems = output.GetDiagnostics().Where(static d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(problems.Length == 0, string.Join(Environment.NewLine, problems.Select(static d => d.ToString())));

        // The signature, exactly: inputs as ReadOnlySpan, outputs as Span, of the mapped types.
        string source = result.Results[0].GeneratedSources[0].SourceText.ToString();
        Assert.Contains("ReadOnlySpan<global::System.Half> half, global::System.ReadOnlySpan<global::EdgeCompile.Kernels.BFloat16> brain, "
            + "global::System.ReadOnlySpan<uint> small, global::System.ReadOnlySpan<ulong> big, global::System.Span<global::System.Half> halfOut", source, StringComparison.Ordinal);
        Assert.Contains("MemoryMarshal.Cast<byte, global::System.Half>(arena.Slice(0, 12))", source, StringComparison.Ordinal);
        Assert.Contains("s_weights.Get<ulong>(8, 2)", source, StringComparison.Ordinal);
        Assert.Contains("ReadOnlySpan<global::EdgeCompile.Kernels.BFloat16>.Empty", source, StringComparison.Ordinal);

        using var stream = new MemoryStream();
        EmitResult emitted = output.Emit(stream);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        stream.Position = 0;
        var context = new AssemblyLoadContext("EdgeTypedTest", isCollectible: true);
        try
        {
            var driver = context.LoadFromStream(stream).GetType("TypedDriver")!;
            Half[] half = [(Half)1.5, (Half)(-2), Half.MaxValue, Half.Epsilon, Half.NaN, (Half)65504];
            ushort[] brain = [0x3F80, 0xBF80, 0x7F80, 0x0001];
            uint[] small = [0, 1, uint.MaxValue, 123456789, 42];
            ulong[] big = [ulong.MaxValue, 1UL << 63];
            var outputs = (object[])driver.GetMethod("Run")!.Invoke(null, [half, brain, small, big])!;
            Assert.Equal(half.Select(BitConverter.HalfToUInt16Bits), ((Half[])outputs[0]).Select(BitConverter.HalfToUInt16Bits));
            Assert.Equal(brain, (ushort[])outputs[1]);
            Assert.Equal(small, (uint[])outputs[2]);
            Assert.Equal(big, (ulong[])outputs[3]);
            Assert.Equal("Check.Empty(0)", (string)outputs[4]);
        }
        finally
        {
            context.Unload();
        }
    }

    [Theory]
    [InlineData("f16", "global::System.Half", 2)]
    [InlineData("bf16", "global::EdgeCompile.Kernels.BFloat16", 2)]
    [InlineData("u32", "uint", 4)]
    [InlineData("u64", "ulong", 8)]
    public void New_dtypes_parse_and_map(string token, string csharp, int size)
    {
        string plan = $"edgeplan 1\nnamespace N\nclass C\narena 64\ninput 0 x {token} 4\noutput 0 y {token} 4\ncall Data.Copy<{token}> in:0 a:{token}:0:4\ncall Data.Copy a:{token}:0:4 out:0\nend\n";
        var (result, output) = Run([Plan("/repo/obj/C.edgeplan", plan)], null, KernelsStub.Source, StubExtras);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));
        string source = result.Results[0].GeneratedSources[0].SourceText.ToString();
        Assert.Contains($"ReadOnlySpan<{csharp}> x", source, StringComparison.Ordinal);
        Assert.Contains($"MemoryMarshal.Cast<byte, {csharp}>(arena.Slice(0, {4 * size}))", source, StringComparison.Ordinal);
    }
}

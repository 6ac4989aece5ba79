using System.Reflection;
using System.Runtime.Loader;
using EdgeCompile.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;
using static EdgeCompile.Generators.Tests.Support.GeneratorHarness;

namespace EdgeCompile.Generators.Tests;

/// <summary>
/// Compiles the generated classes (C# 12, docs diagnosed, nullable on) with a stub of EdgeCompile.Kernels,
/// loads the assembly in a collectible context and calls Run.
/// </summary>
public class CompileAndRunTests
{
    // Entry points the test calls by reflection (Run takes spans, which reflection cannot pass).
    private const string DriverSource = """
        using System;
        using System.Linq;
        using EdgeCompile.Kernels;

        /// <summary>Test driver.</summary>
        public static class Driver
        {
            /// <summary>Runs TinyNet; returns the output and every kernel call recorded so far.</summary>
            public static object[] RunTiny(float[] image)
            {
                var logits = new float[Test.Models.TinyNet.LogitsLength];
                new Test.Models.TinyNet().Run(image, logits);
                return new object[] { logits, CallLog.Calls.ToArray() };
            }

            /// <summary>Runs TinyNet with spans of the given lengths (to hit the length checks).</summary>
            public static void RunTinyWithLengths(int imageLength, int logitsLength)
                => new Test.Models.TinyNet().Run(new float[imageLength], new float[logitsLength]);

            /// <summary>TinyNet's constants.</summary>
            public static long[] TinyConstants() => new long[]
            {
                Test.Models.TinyNet.ImageLength, Test.Models.TinyNet.ImageRank,
                Test.Models.TinyNet.ImageDim0, Test.Models.TinyNet.ImageDim1, Test.Models.TinyNet.ImageDim2, Test.Models.TinyNet.ImageDim3,
                Test.Models.TinyNet.LogitsLength, Test.Models.TinyNet.LogitsRank,
                Test.Models.TinyNet.ArenaBytes, Test.Models.TinyNet.WeightBytes, Test.Models.TinyNet.Parameters,
            };

            /// <summary>TinyNet's shapes.</summary>
            public static int[][] TinyShapes() => new[] { Test.Models.TinyNet.ImageShape.ToArray(), Test.Models.TinyNet.LogitsShape.ToArray() };

            /// <summary>Bytes KeywordNet.Run allocates (after a warm-up run), with the stub's recording off.</summary>
            public static long KeywordRunAllocations()
            {
                var model = new global::KeywordNet();
                float[] input = new float[global::KeywordNet.ObjectLength], scalar = new float[1], output = new float[global::KeywordNet.ParamsLength];
                CallLog.Enabled = false;
                try
                {
                    model.Run(input, scalar, output);
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    model.Run(input, scalar, output);
                    return GC.GetAllocatedBytesForCurrentThread() - before;
                }
                finally
                {
                    CallLog.Enabled = true;
                }
            }

            /// <summary>Bytes one read of KeywordNet.ObjectShape allocates, after a warm-up read.</summary>
            public static long ShapeAllocations()
            {
                int length = global::KeywordNet.ObjectShape.Length;
                long before = GC.GetAllocatedBytesForCurrentThread();
                length += global::KeywordNet.ObjectShape.Length;
                return GC.GetAllocatedBytesForCurrentThread() - before + (length - 4);
            }

            /// <summary>Runs KeywordNet (global namespace, keyword parameter names).</summary>
            public static float[] RunKeyword(float[] input)
            {
                var output = new float[global::KeywordNet.ParamsLength];
                new global::KeywordNet().Run(input, new float[global::KeywordNet.ArenaLength], output);
                return output;
            }
        }
        """;

    [Fact]
    public void Generated_code_compiles_cleanly_and_runs_against_the_kernel_stub()
    {
        using var loaded = CompileAndLoad();
        Type driver = loaded.Assembly.GetType("Driver")!;

        float[] image = Enumerable.Range(0, 64).Select(static i => (float)i).ToArray();
        object[] result = (object[])Invoke(driver, "RunTiny", image)!;
        float[] logits = (float[])result[0];
        string[] calls = (string[])result[1];

        // The weights are bound once, by resource name, to the assembly holding the class.
        Assert.Equal(["WeightBlob.FromResource(GeneratedModels, Test.Models.TinyNet.weights.bin)"], calls.Where(static c => c.StartsWith("WeightBlob.FromResource", StringComparison.Ordinal)));
        Assert.Equal(
        [
            "Data.Copy<Single>(64, 64)",
            "WeightBlob.Get<Single>(0, 640)",
            "WeightBlob.Get<Single>(2560, 10)",
            "Gemm.Run(64, 640, 10, 10, 1, 64, 10, False, True, 1, 0.5, 1, 10, Relu, 0, 0)",
            "Elementwise.Unary(Clip, 10, 10, -Infinity, 6.25)",
            "WeightBlob.Get<Single>(2624, 10)",
            "Elementwise.Binary(Add, 10, 10, 10, [1,10], [10,1], [0,1])",
            "Data.StridedCopy<Single>(10, 10, 9, [1,10], [0,-1])",
        ], calls.Where(static c => !c.StartsWith("WeightBlob.FromResource", StringComparison.Ordinal)));

        // The data went through the arena: Copy put the image at offset 0, the stub's Add (zero weights) moved the
        // first 10 values to offset 256, and the strided copy (offset 9, stride -1) reversed them into the output.
        Assert.Equal(Enumerable.Range(0, 10).Select(static i => (float)(9 - i)), logits);

        Assert.Equal([64L, 4, 1, 1, 8, 8, 10, 2, 320, 2680, 660], (long[])Invoke(driver, "TinyConstants")!);
        int[][] shapes = (int[][])Invoke(driver, "TinyShapes")!;
        Assert.Equal([1, 1, 8, 8], shapes[0]);
        Assert.Equal([1, 10], shapes[1]);

        // Keyword parameter names, a scalar input, the arena local renamed around a parameter called 'arena'.
        float[] input = Enumerable.Range(0, 16).Select(static i => (float)i).ToArray();
        Assert.Equal(input, (float[])Invoke(driver, "RunKeyword", input)!);

        // Run itself allocates nothing (length checks, arena slices, MemoryMarshal.Cast, ints: data), nor do the
        // shape properties; the test compilation is a Debug one, where 'ReadOnlySpan<int> P => new int[] {...}' would.
        Assert.Equal(0L, (long)Invoke(driver, "ShapeAllocations")!);
        Assert.Equal(0L, (long)Invoke(driver, "KeywordRunAllocations")!);
    }

    [Theory]
    [InlineData(63, 10, "image", "Input 'image' expected 64 elements (shape 1x1x8x8), got 63")]
    [InlineData(64, 11, "logits", "Output 'logits' expected 10 elements (shape 1x10), got 11")]
    public void Run_rejects_a_span_of_the_wrong_length_naming_the_parameter(int imageLength, int logitsLength, string parameter, string message)
    {
        using var loaded = CompileAndLoad();
        Type driver = loaded.Assembly.GetType("Driver")!;

        var thrown = Assert.Throws<TargetInvocationException>(() => Invoke(driver, "RunTinyWithLengths", imageLength, logitsLength));

        // The exception type comes from the shared framework, so it is the test's ArgumentException type.
        var argument = Assert.IsType<ArgumentException>(thrown.InnerException);
        Assert.Equal(parameter, argument.ParamName);
        Assert.StartsWith(message, argument.Message, StringComparison.Ordinal);
    }

    private static object? Invoke(Type type, string method, params object[] args)
        => type.GetMethod(method)!.Invoke(null, args);

    /// <summary>Generates from both sample plans, compiles with the stub and the driver, asserts no warnings, loads it.</summary>
    private static LoadedAssembly CompileAndLoad()
    {
        var (result, output) = Run(
            [Plan("/repo/obj/TinyNet.edgeplan", ReadPlan("TinyNet.edgeplan")), Plan("/repo/obj/KeywordNet.edgeplan", ReadPlan("KeywordNet.edgeplan"))],
            null,
            KernelsStub.Source,
            DriverSource);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(2, result.Results[0].GeneratedSources.Length);

        var problems = output.GetDiagnostics().Where(static d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        Assert.True(problems.Length == 0, string.Join(Environment.NewLine, problems.Select(static d => d.ToString())));

        using var stream = new MemoryStream();
        EmitResult emitted = output.Emit(stream);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        stream.Position = 0;
        return new LoadedAssembly(stream);
    }

    /// <summary>The compiled assembly in a collectible load context, unloaded on dispose.</summary>
    private sealed class LoadedAssembly : IDisposable
    {
        private readonly AssemblyLoadContext _context = new("EdgeGeneratorTest", isCollectible: true);

        public LoadedAssembly(Stream stream) => Assembly = _context.LoadFromStream(stream);

        public Assembly Assembly { get; }

        public void Dispose() => _context.Unload();
    }
}

using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace EdgeCompile.Generators.Tests.Support;

/// <summary>Runs <see cref="EdgePlanGenerator"/> over in-memory plans, the way the compiler does in a build.</summary>
internal static class GeneratorHarness
{
    /// <summary>C# 12: what the Roslyn 4.8 compiler (the .NET 8 SDK) reads; the generated code must compile there.</summary>
    public static readonly CSharpParseOptions ParseOptions = new CSharpParseOptions(LanguageVersion.CSharp12, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(static p => !Path.GetFileName(p).StartsWith("EdgeCompile", StringComparison.Ordinal))
            .Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    /// <summary>The running runtime's assemblies (a test-time stand-in for reference assemblies).</summary>
    public static ImmutableArray<MetadataReference> References => s_references.Value;

    public static string TestsDirectory { get; } = typeof(GeneratorHarness).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "EdgeGeneratorTestsDir").Value!;

    public static string ReadPlan(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Plans", name));

    public static CSharpCompilation CreateCompilation(params string[] sources) => CSharpCompilation.Create(
        "GeneratedModels",
        sources.Select(static (s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: "Source" + i + ".cs")),
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> plans, IReadOnlyDictionary<string, string>? globalOptions = null)
        => CSharpGeneratorDriver.Create(
            new[] { new EdgePlanGenerator().AsSourceGenerator() },
            plans,
            ParseOptions,
            new TestOptionsProvider(globalOptions ?? new Dictionary<string, string>()),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once; returns its result and the compilation with the generated code added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(
        IEnumerable<AdditionalText> plans, IReadOnlyDictionary<string, string>? globalOptions = null, params string[] sources)
    {
        GeneratorDriver driver = CreateDriver(plans, globalOptions)
            .RunGeneratorsAndUpdateCompilation(CreateCompilation(sources), out Compilation output, out _);
        return (driver.GetRunResult(), output);
    }

    public static AdditionalText Plan(string path, string text) => new InMemoryAdditionalText(path, text);
}

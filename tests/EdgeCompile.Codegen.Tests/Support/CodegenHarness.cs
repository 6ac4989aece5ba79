using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace EdgeCompile.Codegen.Tests.Support;

/// <summary>
/// A model taken through the compiler (front end → lowering → plan + weights), ready to be generated and compiled.
/// Holds no reference to the IR: the model file is closed once the plan is written.
/// </summary>
public sealed record PreparedModel(
    string Id, string Namespace, string ClassName, string Plan, byte[] Weights, string ResourceName,
    IReadOnlyList<Parameter> Inputs, IReadOnlyList<Parameter> Outputs)
{
    public string FullName => Namespace + "." + ClassName;
}

/// <summary>
/// The whole chain in memory, the way a build runs it: <see cref="FrontEnd.Load"/>, <see cref="Lowerer.Lower"/>,
/// <see cref="ArtifactWriter.Plan"/>, then <see cref="EdgePlanGenerator"/> over the plans (as AdditionalFiles), Roslyn
/// compiles the generated classes against the real EdgeCompile.Kernels with each model's weights embedded as a manifest
/// resource (so the generated <c>WeightBlob.FromResource</c> runs for real), and the assembly is loaded in a collectible
/// context. Run is called through a small per-model driver (test code: Run takes spans, which reflection cannot pass).
/// </summary>
public static class CodegenHarness
{
    /// <summary>C# 12: what the Roslyn 4.8 compiler (the .NET 8 SDK) reads; the generated code must compile there.</summary>
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(static p => !Path.GetFileName(p).StartsWith("EdgeCompile", StringComparison.Ordinal))
            .Append(typeof(Kernels.WeightBlob).Assembly.Location)
            .Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    /// <summary>Front end (with <paramref name="inputShapes"/> bound), lowering and the plan, as the build step does.</summary>
    public static PreparedModel Prepare(string id, string modelPath, IReadOnlyDictionary<string, int[]>? inputShapes, string @namespace, string className)
    {
        using var model = Load(modelPath, inputShapes);
        return Lower(id, model, Path.GetFileName(modelPath), @namespace, className);
    }

    /// <summary>The front end alone (read, validate, bind shapes, infer, fold).</summary>
    public static Model Load(string modelPath, IReadOnlyDictionary<string, int[]>? inputShapes)
        => FrontEnd.Load(modelPath, new FrontEndOptions { InputShapes = inputShapes });

    /// <summary>Lowering and the plan (the model is changed by lowering's passes; dispose it afterwards).</summary>
    public static PreparedModel Lower(string id, Model model, string sourceName, string @namespace, string className)
    {
        var compiled = Lowerer.Lower(model, className, @namespace);
        string plan = ArtifactWriter.Plan(compiled, sourceName, "codegen-test");
        return new PreparedModel(id, @namespace, className, plan, compiled.Weights, compiled.ResourceName, compiled.Inputs, compiled.Outputs);
    }

    /// <summary>
    /// Generates and compiles <paramref name="models"/> into one assembly. A model whose generated code (or driver)
    /// does not compile is left out and reported in <see cref="ModelAssembly.Failures"/>; the rest are rebuilt without it.
    /// </summary>
    public static ModelAssembly Build(IReadOnlyList<PreparedModel> models, string assemblyName = "GeneratedModels")
    {
        var failures = new Dictionary<PreparedModel, string>();
        var remaining = models.ToList();
        for (int attempt = 0; attempt < 4 && remaining.Count > 0; attempt++)
        {
            var (bytes, errors) = TryCompile(remaining, assemblyName);
            if (bytes is not null) return new ModelAssembly(bytes, remaining, failures);
            foreach (var (m, e) in errors) failures[m] = e;
            remaining = remaining.Where(m => !failures.ContainsKey(m)).ToList();
        }
        if (remaining.Count > 0) throw new InvalidOperationException("The generated code still does not compile after leaving out the failing models.");
        return new ModelAssembly(null, remaining, failures);
    }

    private static (byte[]? Bytes, Dictionary<PreparedModel, string> Errors) TryCompile(List<PreparedModel> models, string assemblyName)
    {
        var byClass = models.ToDictionary(m => m.ClassName, StringComparer.Ordinal);
        var plans = models.Select(m => (AdditionalText)new InMemoryAdditionalText("/codegen/" + m.ClassName + ".edgeplan", m.Plan)).ToList();
        var drivers = models.Select(m => CSharpSyntaxTree.ParseText(DriverSource(m), ParseOptions, path: m.ClassName + ".driver.cs", encoding: Encoding.UTF8));
        var compilation = CSharpCompilation.Create(assemblyName, drivers, s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: true));
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new EdgePlanGenerator().AsSourceGenerator()], plans, ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out Microsoft.CodeAnalysis.Compilation output, out _);

        var errors = new Dictionary<PreparedModel, string>();
        PreparedModel? Owner(string? path)
        {
            if (string.IsNullOrEmpty(path)) return null;
            string file = Path.GetFileName(path);
            string cls = file.Split('.') is var parts && file.EndsWith(".g.cs", StringComparison.Ordinal) ? parts[^3] : parts[0];
            return byClass.GetValueOrDefault(cls);
        }
        void Add(PreparedModel? m, Diagnostic d)
        {
            if (m is null) throw new InvalidOperationException("A compile error no model owns: " + d);
            errors[m] = errors.TryGetValue(m, out var e) ? e : d.ToString();
        }
        foreach (var d in driver.GetRunResult().Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))
            Add(Owner(d.Location.GetLineSpan().Path), d);
        if (errors.Count > 0) return (null, errors);

        using var stream = new MemoryStream();
        var resources = models.Where(m => m.Weights.Length > 0)
            .Select(m => new ResourceDescription(m.ResourceName, () => new MemoryStream(m.Weights, writable: false), isPublic: true));
        var emitted = output.Emit(stream, manifestResources: resources);
        if (emitted.Success) return (stream.ToArray(), errors);
        foreach (var d in emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))
            Add(Owner(d.Location.SourceTree?.FilePath), d);
        return (null, errors);
    }

    /// <summary>Test code compiled beside each model: <c>Run(object[] inputs, object[] outputs)</c> over arrays.</summary>
    private static string DriverSource(PreparedModel m)
    {
        var args = m.Inputs.Select((p, i) => $"({Lowerer.ClrName(p.Type)}[])inputs[{i}]")
            .Concat(m.Outputs.Select((p, i) => $"({Lowerer.ClrName(p.Type)}[])outputs[{i}]"));
        return $$"""
            namespace {{m.Namespace}}
            {
                public static class {{m.ClassName}}Driver
                {
                    private static global::{{m.FullName}}? s_model;

                    public static void Run(object[] inputs, object[] outputs)
                        => (s_model ??= new global::{{m.FullName}}()).Run({{string.Join(", ", args)}});

                    /// <summary>
                    /// Managed bytes this thread allocates over <paramref name="runs"/> calls of Run, after one warm-up call: the
                    /// fewest of three windows. A Run that allocates allocates in every window; a one-time runtime event on this
                    /// thread (a tier-up or on-stack-replacement compile landing inside a window, which a loaded machine makes
                    /// likely) does not repeat in all three.
                    /// </summary>
                    public static long AllocatedBytes(object[] inputs, object[] outputs, int runs)
                    {
                        var model = s_model ??= new global::{{m.FullName}}();
                        model.Run({{string.Join(", ", args)}});
                        long fewest = long.MaxValue;
                        for (int window = 0; window < 3 && fewest != 0; window++)
                        {
                            long before = global::System.GC.GetAllocatedBytesForCurrentThread();
                            for (int i = 0; i < runs; i++) model.Run({{string.Join(", ", args)}});
                            fewest = global::System.Math.Min(fewest, global::System.GC.GetAllocatedBytesForCurrentThread() - before);
                        }
                        return fewest;
                    }
                }
            }
            """;
    }

    /// <summary>An output buffer for a parameter (its element type, its element count).</summary>
    public static Array NewBuffer(Parameter p) => Array.CreateInstance(ClrType(p.Type), checked((int)Shapes.Product(p.Shape)));

    public static Type ClrType(DataType t) => t switch
    {
        DataType.Float => typeof(float), DataType.Int64 => typeof(long), DataType.Int32 => typeof(int),
        DataType.UInt8 => typeof(byte), DataType.Int8 => typeof(sbyte), DataType.Bool => typeof(bool),
        DataType.Double => typeof(double), DataType.Int16 => typeof(short), DataType.UInt16 => typeof(ushort),
        DataType.UInt32 => typeof(uint), DataType.UInt64 => typeof(ulong), DataType.Float16 => typeof(Half),
        DataType.BFloat16 => typeof(global::EdgeCompile.Kernels.BFloat16),
        _ => throw new NotSupportedException(t.ToString()),
    };

    private sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);
        public override string Path { get; } = path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }
}

/// <summary>The compiled models, loaded in a collectible context (unloaded on dispose).</summary>
public sealed class ModelAssembly : IDisposable
{
    private readonly AssemblyLoadContext? _context;
    private readonly Assembly? _assembly;
    private readonly HashSet<PreparedModel> _compiled;

    internal ModelAssembly(byte[]? bytes, IReadOnlyList<PreparedModel> compiled, IReadOnlyDictionary<PreparedModel, string> failures)
    {
        _compiled = [.. compiled];
        Failures = failures;
        if (bytes is null) return;
        _context = new AssemblyLoadContext("EdgeCodegenTest", isCollectible: true);
        _assembly = _context.LoadFromStream(new MemoryStream(bytes));
    }

    /// <summary>Models whose generated code did not compile, with the first error.</summary>
    public IReadOnlyDictionary<PreparedModel, string> Failures { get; }

    /// <summary>Runs the generated class of <paramref name="m"/> on <paramref name="inputs"/> (arrays in Run's input order).</summary>
    public Array[] Run(PreparedModel m, IReadOnlyList<Array> inputs)
    {
        if (_assembly is null || !_compiled.Contains(m)) throw new InvalidOperationException($"{m.Id} was not compiled.");
        var outputs = m.Outputs.Select(CodegenHarness.NewBuffer).ToArray();
        var run = _assembly.GetType(m.FullName + "Driver", throwOnError: true)!.GetMethod("Run")!;
        try
        {
            run.Invoke(null, [inputs.Select(ToKernelArray).ToArray(), outputs.Cast<object>().ToArray()]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
        return outputs.Select(FromKernelArray).ToArray();
    }

    /// <summary>The compiler's bfloat16 arrays as the kernels' (the generated Run's) and back: same bits, two struct types.</summary>
    public static object ToKernelArray(Array a) => a is EdgeCompile.Compiler.BFloat16[] b
        ? b.Select(v => global::EdgeCompile.Kernels.BFloat16.FromBits(v.Bits)).ToArray()
        : a;

    public static Array FromKernelArray(Array a) => a is global::EdgeCompile.Kernels.BFloat16[] b
        ? b.Select(v => new EdgeCompile.Compiler.BFloat16(v.Bits)).ToArray()
        : a;

    /// <summary>Bytes the generated class allocates over <paramref name="runs"/> calls of its Run (the driver calls it directly).</summary>
    public long AllocatedBytes(PreparedModel m, IReadOnlyList<Array> inputs, int runs)
    {
        if (_assembly is null || !_compiled.Contains(m)) throw new InvalidOperationException($"{m.Id} was not compiled.");
        var outputs = m.Outputs.Select(CodegenHarness.NewBuffer).ToArray();
        var method = _assembly.GetType(m.FullName + "Driver", throwOnError: true)!.GetMethod("AllocatedBytes")!;
        return (long)method.Invoke(null, [inputs.Select(ToKernelArray).ToArray(), outputs.Cast<object>().ToArray(), runs])!;
    }

    public void Dispose() => _context?.Unload();
}

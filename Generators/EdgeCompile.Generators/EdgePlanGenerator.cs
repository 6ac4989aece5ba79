using EdgeCompile.Generators.Model;
using Microsoft.CodeAnalysis;

namespace EdgeCompile.Generators;

/// <summary>
/// Turns each <c>&lt;ClassName&gt;.edgeplan</c> (an <c>AdditionalFiles</c> item written by the EdgeCompile build
/// step, docs/edgeplan.md) into <c>public sealed partial class &lt;ClassName&gt;</c> with a typed, allocation-free
/// <c>Run</c>. It never reads ONNX. Stages: <see cref="Parse"/> (.Parser.cs: text → <see cref="PlanSpec"/>),
/// <see cref="CheckPlanSet"/> (cross-plan checks), <see cref="Emit"/> (.Emitter.cs: <see cref="PlanSpec"/> → C#).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class EdgePlanGenerator : IIncrementalGenerator
{
    /// <summary>The <c>WithTrackingName</c> names of the pipeline steps (the incremental tests look for them).</summary>
    internal static class Steps
    {
        public const string Parse = nameof(Parse);
        public const string PlanDiagnostics = nameof(PlanDiagnostics);
        public const string ExpectedClasses = nameof(ExpectedClasses);
        public const string PlanSet = nameof(PlanSet);
        public const string Plans = nameof(Plans);
    }

    /// <summary>
    /// Optional build property (made visible with <c>CompilerVisibleProperty</c>): the ClassNames of the project's
    /// EdgeModel items, ';'-separated. When set, a class without a plan is EDGE3004.
    /// </summary>
    internal const string ExpectedClassesProperty = "build_property.EdgeCompileClassNames";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // 1. Parse every .edgeplan into a model, or into diagnostics.
        IncrementalValuesProvider<PlanFile> files = context.AdditionalTextsProvider
            .Where(static text => IsPlanFile(text.Path))
            .Select(static (text, cancellationToken) => Parse(text.Path, text.GetText(cancellationToken), cancellationToken))
            .WithTrackingName(Steps.Parse);

        // 2. Report each plan's own problems (their own output: a diagnostic change never re-emits code).
        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> planDiagnostics = files
            .Select(static (file, _) => file.Diagnostics)
            .WithTrackingName(Steps.PlanDiagnostics);
        context.RegisterSourceOutput(planDiagnostics, static (spc, diagnostics) => Report(spc, diagnostics));

        // 3. Cross-plan checks: duplicate class names (EDGE3002), EdgeModel items without a plan (EDGE3004).
        IncrementalValueProvider<EquatableArray<string>> expectedClasses = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => ReadExpectedClasses(options.GlobalOptions))
            .WithTrackingName(Steps.ExpectedClasses);
        IncrementalValueProvider<PlanSetCheck> planSet = files
            .Select(static (file, _) => new PlanHeader(file.Path, file.Plan?.ClassName))
            .Collect()
            .Combine(expectedClasses)
            .Select(static (pair, _) => CheckPlanSet(pair.Left, pair.Right))
            .WithTrackingName(Steps.PlanSet);
        context.RegisterSourceOutput(planSet, static (spc, check) => Report(spc, check.Diagnostics));

        // 4. Emit one class per good plan that the cross-plan checks kept.
        IncrementalValuesProvider<PlanSpec> plans = files
            .Combine(planSet)
            .Select(static (pair, _) => pair.Left.Plan is { } plan && !pair.Right.RejectedPaths.Contains(pair.Left.Path) ? plan : null)
            .Where(static plan => plan is not null)
            .Select(static (plan, _) => plan!)
            .WithTrackingName(Steps.Plans);
        context.RegisterSourceOutput(plans, static (spc, plan) => spc.AddSource(HintName(plan), Emit(plan)));
    }

    private static bool IsPlanFile(string path) => path.EndsWith(".edgeplan", StringComparison.OrdinalIgnoreCase);

    private static void Report(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (DiagnosticInfo diagnostic in diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
    }
}

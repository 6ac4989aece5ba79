using Microsoft.CodeAnalysis;

namespace EdgeCompile.Generators;

/// <summary>The generator's diagnostics, EDGE3001–EDGE3004 (documented in Generators/README.md).</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "EdgeCompile";

    public static readonly DiagnosticDescriptor MalformedPlan = new(
        id: "EDGE3001",
        title: "Malformed EdgeCompile plan",
        messageFormat: "Plan line {0}: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The .edgeplan file written by the EdgeCompile build step could not be read. Rebuild; if it persists, the plan writer and the generator disagree (report a bug).");

    public static readonly DiagnosticDescriptor DuplicateClass = new(
        id: "EDGE3002",
        title: "Two EdgeCompile plans declare the same class",
        messageFormat: "The class name '{0}' is already declared by the plan '{1}'; give each EdgeModel item its own ClassName",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedVersion = new(
        id: "EDGE3003",
        title: "Unsupported EdgeCompile plan version",
        messageFormat: "The plan has version '{0}', but this generator reads version {1}: the EdgeCompile build step and the generator come from different packages; use matching versions",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MissingPlan = new(
        id: "EDGE3004",
        title: "An EdgeModel item has no plan",
        messageFormat: "The project declares the EdgeModel class '{0}' but no '{0}.edgeplan' reached the compiler: rebuild; the EdgeCompile build step writes it",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static DiagnosticDescriptor ById(string id) => id switch
    {
        "EDGE3001" => MalformedPlan,
        "EDGE3002" => DuplicateClass,
        "EDGE3003" => UnsupportedVersion,
        "EDGE3004" => MissingPlan,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "Unknown diagnostic id."),
    };
}

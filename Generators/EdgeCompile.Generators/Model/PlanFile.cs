namespace EdgeCompile.Generators.Model;

/// <summary>The result of parsing one <c>.edgeplan</c> file: a plan, or the diagnostics that explain why not.</summary>
/// <param name="Path">The file's full path (for cross-plan diagnostics such as EDGE3002).</param>
/// <param name="Plan">Null when the file has errors.</param>
internal sealed record PlanFile(string Path, PlanSpec? Plan, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The result of the cross-plan checks (duplicate classes, missing plans).</summary>
/// <param name="RejectedPaths">Plans not to emit: a duplicate class name (the first plan by path wins).</param>
internal sealed record PlanSetCheck(EquatableArray<string> RejectedPaths, EquatableArray<DiagnosticInfo> Diagnostics);

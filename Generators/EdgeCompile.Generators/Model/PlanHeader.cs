namespace EdgeCompile.Generators.Model;

/// <summary>What the cross-plan checks need from one plan file: where it is and the class it declares.</summary>
/// <param name="ClassName">Null when the plan did not parse (its own diagnostics already explain why).</param>
internal sealed record PlanHeader(string Path, string? ClassName);

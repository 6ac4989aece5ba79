using EdgeCompile.Generators.Model;
using Microsoft.CodeAnalysis.Diagnostics;

namespace EdgeCompile.Generators;

public sealed partial class EdgePlanGenerator
{
    /// <summary>
    /// Checks the plans together: a class name declared by two plans is EDGE3002 on the later one (by path,
    /// ordinal, so the result does not depend on item order), which is then not emitted; an expected class
    /// (from <see cref="ExpectedClassesProperty"/>) without a plan is EDGE3004.
    /// </summary>
    internal static PlanSetCheck CheckPlanSet(IEnumerable<PlanHeader> headers, EquatableArray<string> expectedClasses)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var rejected = new List<string>();
        var firstByClass = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (PlanHeader header in headers.OrderBy(static h => h.Path, StringComparer.Ordinal))
        {
            if (header.ClassName is not { } className)
            {
                continue;
            }
            if (firstByClass.TryGetValue(className, out string? firstPath))
            {
                rejected.Add(header.Path);
                diagnostics.Add(new DiagnosticInfo(
                    DiagnosticDescriptors.DuplicateClass.Id, header.Path, 0, 0, 0,
                    new[] { className, firstPath }.ToEquatableArray()));
            }
            else
            {
                firstByClass.Add(className, header.Path);
            }
        }

        // A plan that exists but failed to parse already has its own diagnostic: only a plan missing
        // altogether is EDGE3004, so compare against file names as well as parsed class names.
        var fileNames = new HashSet<string>(
            headers.Select(static h => System.IO.Path.GetFileNameWithoutExtension(h.Path)), StringComparer.Ordinal);
        foreach (string expected in expectedClasses)
        {
            if (!firstByClass.ContainsKey(expected) && !fileNames.Contains(expected))
            {
                diagnostics.Add(new DiagnosticInfo(
                    DiagnosticDescriptors.MissingPlan.Id, null, 0, 0, 0, new[] { expected }.ToEquatableArray()));
            }
        }
        return new PlanSetCheck(rejected.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    /// <summary>Reads the ';'-separated class names of <see cref="ExpectedClassesProperty"/>; empty when unset.</summary>
    internal static EquatableArray<string> ReadExpectedClasses(AnalyzerConfigOptions options)
    {
        if (!options.TryGetValue(ExpectedClassesProperty, out string? value) || string.IsNullOrWhiteSpace(value))
        {
            return EquatableArray<string>.Empty;
        }
        return value.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(static name => name.Trim())
            .Where(static name => name.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(static name => name, StringComparer.Ordinal)
            .ToEquatableArray();
    }
}

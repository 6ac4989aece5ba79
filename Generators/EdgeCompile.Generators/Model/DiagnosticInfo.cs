using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace EdgeCompile.Generators.Model;

/// <summary>
/// A diagnostic as plain data (descriptor id, file, line, pre-formatted arguments): models never hold a
/// <see cref="Location"/>, so equal inputs give equal values and the pipeline stays cached.
/// </summary>
/// <param name="FilePath">The plan file, or null for a diagnostic without a location.</param>
/// <param name="Line">0-based line; with <paramref name="Start"/>/<paramref name="Length"/> the span of that line in the file.</param>
internal sealed record DiagnosticInfo(
    string Id,
    string? FilePath,
    int Line,
    int Start,
    int Length,
    EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic()
    {
        Location location = FilePath is null
            ? Location.None
            : Location.Create(
                FilePath,
                new TextSpan(Start, Length),
                new LinePositionSpan(new LinePosition(Line, 0), new LinePosition(Line, Length)));
        return Diagnostic.Create(DiagnosticDescriptors.ById(Id), location, Arguments.Cast<object>().ToArray());
    }
}

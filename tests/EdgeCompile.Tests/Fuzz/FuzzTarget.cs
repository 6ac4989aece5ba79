using System.Text.RegularExpressions;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Reference;

namespace EdgeCompile.Tests.Fuzz;

/// <summary>
/// The fuzzing contract shared by the bounded mutation fuzzer (<c>FuzzHarness</c>, in EdgeCompile.Tests) and the
/// coverage-guided afl++ harness (tests/EdgeCompile.Fuzz, which links this file): what is done to a loaded
/// model, and which <see cref="EdgeException"/>s are acceptable. Depends on the compiler only.
/// </summary>
internal static partial class FuzzTarget
{
    /// <summary>Executions are skipped unless every graph input is static and at most this many elements.</summary>
    public const long MaxInputElements = 100_000;
    /// <summary>... and every statically inferred value is at most this many elements (keeps cases fast).</summary>
    public const long MaxValueElements = 1_000_000;

    [GeneratedRegex("^EDGE[0-9]{4}$")]
    private static partial Regex CodeFormat();

    private static readonly HashSet<string> s_codes = EdgeCodes.All.ToHashSet();

    /// <summary>
    /// Decodes every initializer, calls <paramref name="decoded"/>, then, for models with small static inputs,
    /// executes once with zero-filled inputs. Returns whether it executed. Throws whatever the compiler throws.
    /// </summary>
    public static bool Exercise(Model model, Action? decoded = null)
    {
        foreach (var c in model.Graph.Initializers) _ = c.Value;
        decoded?.Invoke();
        var inputs = ZeroInputs(model);
        if (inputs is null) return false;
        new ReferenceExecutor(model).Run(inputs);
        return true;
    }

    /// <summary>Why <paramref name="e"/> breaks the contract (unknown or malformed code, no message), or null when it is a proper coded error.</summary>
    public static string? CodeViolation(EdgeException e)
    {
        if (!CodeFormat().IsMatch(e.Code) || !s_codes.Contains(e.Code))
            return $"EdgeException with unknown code '{e.Code}': {e.Message}";
        if (string.IsNullOrWhiteSpace(e.Message))
            return $"EdgeException {e.Code} without a message";
        // EDGE9001 is the compiler's "internal error": a bug by definition, never an acceptable outcome.
        if (e.Code == EdgeCodes.InternalError)
            return $"internal compiler error: {e.Message}";
        return null;
    }

    /// <summary>Zero-filled inputs of the declared static shapes, or null when the model should not be executed.</summary>
    public static Dictionary<string, Tensor>? ZeroInputs(Model model)
    {
        var g = model.Graph;
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var i in g.Inputs)
        {
            if (g.Initializers.Contains(i.Name)) continue; // has a default
            if (i.Type is not { IsTensor: true, StaticShape: { } shape } t || !t.ElemType.IsSupported()) return null;
            if (!SmallEnough(shape, MaxInputElements)) return null;
            inputs[i.Name] = Tensor.Zeros(t.ElemType, shape);
        }
        foreach (var vt in g.ValueTypes.Values.Concat(g.Outputs.Select(o => o.Type)))
            if (vt?.Shape is { } s && s.All(d => d.IsKnown) && !SmallEnough(s.Select(d => d.Value).ToArray(), MaxValueElements))
                return null;
        return inputs;
    }

    private static bool SmallEnough(IEnumerable<long> dims, long max)
    {
        double n = 1;
        foreach (var d in dims) n *= d;
        return n <= max;
    }

    private static bool SmallEnough(int[] dims, long max) => SmallEnough(dims.Select(d => (long)d), max);
}

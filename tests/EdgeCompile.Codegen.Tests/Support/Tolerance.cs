using System.Globalization;
using EdgeCompile.Compiler;

namespace EdgeCompile.Codegen.Tests.Support;

/// <summary>The generated-code tolerance: |a − e| ≤ 1e-4·|e| + 1e-5 for floats (NaN matches NaN), exact for integers and bool.</summary>
public static class Tolerance
{
    public const double Rtol = 1e-4, Atol = 1e-5;

    /// <summary>Null when <paramref name="actual"/> matches <paramref name="expected"/>, else the mismatch in words.</summary>
    public static string? Compare(Tensor expected, DataType actualType, int[] actualShape, Array actual)
    {
        var inv = CultureInfo.InvariantCulture;
        if (!expected.Shape.SequenceEqual(actualShape))
            return $"shape {Shapes.Format(actualShape)}, expected {Shapes.Format(expected.Shape)}";
        var a = new Tensor(actualType, actualShape, actual);
        if (a.DataType != expected.DataType) return $"type {a.DataType.OnnxName()}, expected {expected.DataType.OnnxName()}";
        if (expected.DataType.IsFloat())
        {
            var e = expected.ToDoubles(); var g = a.ToDoubles();
            int bad = 0, first = -1; double worst = 0;
            for (int i = 0; i < e.Length; i++)
            {
                if (double.IsNaN(e[i]) && double.IsNaN(g[i])) continue;
                if (e[i] == g[i]) continue; // covers infinities
                double d = Math.Abs(e[i] - g[i]);
                if (!(d <= Atol + Rtol * Math.Abs(e[i])))
                {
                    bad++;
                    if (first < 0) first = i;
                    worst = Math.Max(worst, double.IsNaN(d) ? double.PositiveInfinity : d);
                }
            }
            return bad == 0 ? null : string.Create(inv, $"{bad}/{e.Length} elements differ; first at {first}: got {g[first]:R}, expected {e[first]:R}; max |diff| {worst:G4}");
        }
        var ei = expected.ToInt64s(); var ai = a.ToInt64s();
        for (int i = 0; i < ei.Length; i++)
            if (ei[i] != ai[i]) return string.Create(inv, $"element {i}: got {ai[i]}, expected {ei[i]}");
        return null;
    }
}

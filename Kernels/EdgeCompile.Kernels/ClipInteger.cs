using System.Numerics;

namespace EdgeCompile.Kernels;

/// <summary>Clip on integer data; min/max hold one element or are empty (no bound). y = min(max(x, lo), hi).</summary>
public static class ClipInteger
{
    /// <summary>Clip on int8 data.</summary>
    public static void Clip(ReadOnlySpan<sbyte> x, ReadOnlySpan<sbyte> min, ReadOnlySpan<sbyte> max, Span<sbyte> y) => Core(x, min, max, y);
    /// <summary>Clip on uint8 data.</summary>
    public static void Clip(ReadOnlySpan<byte> x, ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, Span<byte> y) => Core(x, min, max, y);
    /// <summary>Clip on int32 data.</summary>
    public static void Clip(ReadOnlySpan<int> x, ReadOnlySpan<int> min, ReadOnlySpan<int> max, Span<int> y) => Core(x, min, max, y);
    /// <summary>Clip on int64 data.</summary>
    public static void Clip(ReadOnlySpan<long> x, ReadOnlySpan<long> min, ReadOnlySpan<long> max, Span<long> y) => Core(x, min, max, y);

    private static void Core<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> min, ReadOnlySpan<T> max, Span<T> y) where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        if (x.Length != y.Length) throw new ArgumentException("Clip: x and y lengths differ.", nameof(y));
        if (min.Length > 1 || max.Length > 1) throw new ArgumentException("Clip: min and max must be scalars.", nameof(min));
        T lo = min.Length == 1 ? min[0] : T.MinValue, hi = max.Length == 1 ? max[0] : T.MaxValue;
        for (int i = 0; i < x.Length; i++) y[i] = T.Min(T.Max(x[i], lo), hi);
    }
}

namespace EdgeCompile.Kernels;

/// <summary>
/// Compile-time index maps: with static shapes and constant parameters, every output element's source is known at
/// build time, so Resize, Pad (reflect/edge/wrap), Tile, Trilu, GatherElements and Scatter with constant indices
/// become one gather through a constant int32 map (or, for interpolation, a fixed number of weighted taps).
/// The compiler validates every map entry at build time; the kernels still check every access (span indexing).
/// </summary>
public static class Maps
{
    /// <summary>y[i] = x[map[i]].</summary>
    /// <exception cref="ArgumentException">map and y differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A map entry falls outside x.</exception>
    public static void Gather<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> map, Span<T> y) where T : unmanaged
    {
        if (map.Length != y.Length) throw new ArgumentException($"Maps.Gather: map has {map.Length} entries but y has {y.Length}.", nameof(map));
        for (int i = 0; i < y.Length; i++)
        {
            int m = map[i];
            if ((uint)m >= (uint)x.Length) throw new ArgumentOutOfRangeException(nameof(map), $"Maps.Gather: map[{i}] = {m} is outside x (length {x.Length}).");
            y[i] = x[m];
        }
    }

    /// <summary>y[i] = x[map[i]], or <paramref name="fill"/> where map[i] = -1.</summary>
    /// <exception cref="ArgumentException">map and y differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A map entry is below -1 or falls outside x.</exception>
    public static void GatherOrFill<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> map, Span<T> y, T fill) where T : unmanaged
    {
        if (map.Length != y.Length) throw new ArgumentException($"Maps.GatherOrFill: map has {map.Length} entries but y has {y.Length}.", nameof(map));
        for (int i = 0; i < y.Length; i++)
        {
            int m = map[i];
            if (m == -1) { y[i] = fill; continue; }
            if ((uint)m >= (uint)x.Length) throw new ArgumentOutOfRangeException(nameof(map), $"Maps.GatherOrFill: map[{i}] = {m} is outside x (length {x.Length}).");
            y[i] = x[m];
        }
    }

    /// <summary>Two sources: y[i] = a[map[i]] when map[i] &lt; a.Length, else b[map[i] - a.Length].</summary>
    /// <exception cref="ArgumentException">map and y differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A map entry falls outside a followed by b.</exception>
    public static void Gather2<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<int> map, Span<T> y) where T : unmanaged
    {
        if (map.Length != y.Length) throw new ArgumentException($"Maps.Gather2: map has {map.Length} entries but y has {y.Length}.", nameof(map));
        long total = (long)a.Length + b.Length;
        for (int i = 0; i < y.Length; i++)
        {
            int m = map[i];
            if (m < 0 || m >= total) throw new ArgumentOutOfRangeException(nameof(map), $"Maps.Gather2: map[{i}] = {m} is outside a and b (lengths {a.Length}, {b.Length}).");
            y[i] = m < a.Length ? a[m] : b[m - a.Length];
        }
    }

    /// <summary>
    /// y[i] = Σ_t weight[i·taps + t] · x[index[i·taps + t]] over the taps with a non-zero weight (a zero weight
    /// contributes nothing, not even a NaN from an infinite input), accumulated in double and rounded once.
    /// </summary>
    /// <exception cref="ArgumentException">taps is not positive, or index/weight are not y.Length·taps long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index falls outside x.</exception>
    public static void Linear(ReadOnlySpan<float> x, ReadOnlySpan<int> index, ReadOnlySpan<float> weight, int taps, Span<float> y)
    {
        if (taps <= 0) throw new ArgumentException($"Maps.Linear: taps must be positive, got {taps}.", nameof(taps));
        long need = (long)y.Length * taps;
        if (index.Length != need || weight.Length != need)
            throw new ArgumentException($"Maps.Linear: index has {index.Length} and weight {weight.Length} entries; y ({y.Length}) × taps ({taps}) = {need}.", nameof(index));
        for (int i = 0, k = 0; i < y.Length; i++)
        {
            double acc = 0;
            for (int t = 0; t < taps; t++, k++)
            {
                float w = weight[k];
                if (w == 0) continue;
                int m = index[k];
                if ((uint)m >= (uint)x.Length) throw new ArgumentOutOfRangeException(nameof(index), $"Maps.Linear: index[{k}] = {m} is outside x (length {x.Length}).");
                acc += (double)w * x[m];
            }
            y[i] = (float)acc;
        }
    }
}

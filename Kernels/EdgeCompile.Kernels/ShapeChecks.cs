namespace EdgeCompile.Kernels;

/// <summary>Shared argument checks of the run-time-parameter kernels (GatherElements, Scatter*, Trilu, Pad, Resize).</summary>
internal static class ShapeChecks
{
    /// <summary>The element count of <paramref name="shape"/> (rank 0..8, no negative dim); ArgumentException otherwise.</summary>
    public static int Count(ReadOnlySpan<int> shape, string kernel, string param)
    {
        if (shape.Length > Data.MaxRank) throw new ArgumentException($"{kernel}: rank {shape.Length} exceeds {Data.MaxRank}.", param);
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"{kernel}: negative dimension {d}.", param);
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"{kernel}: more than {int.MaxValue} elements.", param);
        }
        return (int)n;
    }

    /// <summary>Throws unless <paramref name="length"/> equals the element count of <paramref name="shape"/>.</summary>
    public static void Length(int length, ReadOnlySpan<int> shape, string kernel, string param)
    {
        int n = Count(shape, kernel, param);
        if (length != n) throw new ArgumentException($"{kernel}: {param} has {length} elements, its shape has {n}.", param);
    }

    /// <summary>Row-major element strides of <paramref name="shape"/> into <paramref name="strides"/>.</summary>
    public static void Strides(ReadOnlySpan<int> shape, Span<int> strides)
    {
        int s = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
    }

    /// <summary>Advances a row-major odometer; returns the lowest dim that changed (-1 when it wrapped around).</summary>
    public static int Next(Span<int> coords, ReadOnlySpan<int> shape)
    {
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (++coords[d] < shape[d]) return d;
            coords[d] = 0;
        }
        return -1;
    }
}

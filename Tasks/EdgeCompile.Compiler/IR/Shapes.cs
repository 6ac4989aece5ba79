using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler;

/// <summary>Shape arithmetic shared by the executor and shape inference (concrete shapes).</summary>
public static class Shapes
{
    public static long Product(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new EdgeException(EdgeCodes.InvalidDimension, $"Dimension {d} is negative.");
            try { n = checked(n * d); }
            catch (OverflowException) { throw new EdgeException(EdgeCodes.InvalidDimension, $"The element count of shape [{string.Join(",", shape.ToArray())}] overflows 64 bits."); }
        }
        return n;
    }

    /// <summary>Row-major strides (in elements).</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /// <summary>Numpy-style multidirectional broadcasting of concrete shapes.</summary>
    public static int[] Broadcast(params int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = 1;
            foreach (var s in shapes)
            {
                int k = i - (rank - s.Length);
                if (k < 0) continue;
                int v = s[k];
                if (v == 1) continue;
                if (d == 1) d = v;
                else if (d != v)
                    throw new EdgeException(EdgeCodes.ShapeMismatch, $"Shapes {string.Join(" and ", shapes.Select(Format))} cannot be broadcast together (dimension {i}: {d} vs {v}).");
            }
            // A zero-sized dim broadcasts against 1 only; handled by the rule above (0 != 1 keeps 0).
            r[i] = shapes.Any(s => i - (rank - s.Length) >= 0 && s[i - (rank - s.Length)] == 0) ? 0 : d;
        }
        return r;
    }

    /// <summary>For each element of <paramref name="outShape"/>, the flat index of the broadcast source element in <paramref name="inShape"/>.</summary>
    public static int[] BroadcastIndex(int[] inShape, int[] outShape)
    {
        int n = checked((int)Product(outShape));
        var idx = new int[n];
        int rank = outShape.Length;
        int offset = rank - inShape.Length;
        var inStrides = Strides(inShape);
        var bstride = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int k = i - offset;
            bstride[i] = k < 0 || inShape[k] == 1 ? 0 : inStrides[k];
        }
        var counter = new int[rank];
        int src = 0;
        for (int e = 0; e < n; e++)
        {
            idx[e] = src;
            for (int ax = rank - 1; ax >= 0; ax--)
            {
                counter[ax]++;
                src += bstride[ax];
                if (counter[ax] < outShape[ax]) break;
                src -= bstride[ax] * counter[ax];
                counter[ax] = 0;
            }
        }
        return idx;
    }

    /// <summary>Normalizes a possibly negative axis into [0, rank).</summary>
    public static int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1) && !(rank == 0 && a == 0))
            throw new EdgeException(EdgeCodes.InvalidAttribute, $"{what} {axis} is out of range for a tensor of rank {rank}.");
        return (int)a;
    }

    public static string Format(int[] shape) => "[" + string.Join(",", shape) + "]";
}

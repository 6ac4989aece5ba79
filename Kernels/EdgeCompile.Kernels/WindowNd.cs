namespace EdgeCompile.Kernels;

/// <summary>
/// Direct scalar N-d (any number of spatial axes, up to 8) convolution, transposed convolution and pooling over
/// [N, C, spatial...] tensors. Geometry (output sizes, begin padding) is computed by the compiler; the kernels
/// accumulate in double and round once per output.
/// </summary>
public static class WindowNd
{
    private const int MaxRank = 8;

    /// <summary>
    /// Conv: y[n, m, o] = bias[m] + sum over ci in m's group and taps k of x[n, ci, o*stride - padBegin + k*dilation] * w[m, ci', k].
    /// w is [m, c/group, kernel...].
    /// </summary>
    public static void Conv(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int n, int c, int m, int group,
        ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations)
    {
        int rank = Validate(inSpatial, outSpatial, kernel, strides, padsBegin, dilations, nameof(Conv));
        if (group < 1 || c % group != 0 || m % group != 0) throw new ArgumentException("Conv: channels must be multiples of group.", nameof(group));
        int inSize = Product(inSpatial), outSize = Product(outSpatial), taps = Product(kernel);
        int cg = c / group, mg = m / group;
        Check(x.Length, (long)n * c * inSize, nameof(x)); Check(w.Length, (long)m * cg * taps, nameof(w)); Check(y.Length, (long)n * m * outSize, nameof(y));
        if (bias.Length != 0) Check(bias.Length, m, nameof(bias));
        Span<int> o = stackalloc int[MaxRank]; Span<int> k = stackalloc int[MaxRank];
        Span<int> tapIndex = taps <= 1024 ? stackalloc int[taps] : new int[taps];
        o.Clear();
        for (int op = 0; op < outSize; op++)
        {
            // Input spatial index of each tap (or -1 in the padding).
            k.Clear();
            for (int t = 0; t < taps; t++)
            {
                int idx = 0; bool inside = true;
                for (int d = 0; d < rank; d++)
                {
                    int i = o[d] * strides[d] - padsBegin[d] + k[d] * dilations[d];
                    if ((uint)i >= (uint)inSpatial[d]) { inside = false; break; }
                    idx = idx * inSpatial[d] + i;
                }
                tapIndex[t] = inside ? idx : -1;
                Advance(k, kernel, rank);
            }
            for (int b = 0; b < n; b++)
                for (int mo = 0; mo < m; mo++)
                {
                    int g = mo / mg;
                    double acc = bias.Length != 0 ? bias[mo] : 0;
                    for (int ci = 0; ci < cg; ci++)
                    {
                        int xBase = (b * c + g * cg + ci) * inSize, wBase = (mo * cg + ci) * taps;
                        for (int t = 0; t < taps; t++)
                            if (tapIndex[t] >= 0) acc += (double)x[xBase + tapIndex[t]] * w[wBase + t];
                    }
                    y[(b * m + mo) * outSize + op] = (float)acc;
                }
            Advance(o, outSpatial, rank);
        }
    }

    /// <summary>
    /// ConvTranspose: y[n, m, o] = bias[m] + sum over input channels ci of m's group, input positions i and taps k with
    /// i*stride + k*dilation - padBegin = o of x[n, ci, i] * w[ci, m', k]. w is [c, m/group, kernel...].
    /// </summary>
    public static void ConvTranspose(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int n, int c, int m, int group,
        ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations)
    {
        int rank = Validate(inSpatial, outSpatial, kernel, strides, padsBegin, dilations, nameof(ConvTranspose));
        if (group < 1 || c % group != 0 || m % group != 0) throw new ArgumentException("ConvTranspose: channels must be multiples of group.", nameof(group));
        int inSize = Product(inSpatial), outSize = Product(outSpatial), taps = Product(kernel);
        int cg = c / group, mg = m / group;
        Check(x.Length, (long)n * c * inSize, nameof(x)); Check(w.Length, (long)c * mg * taps, nameof(w)); Check(y.Length, (long)n * m * outSize, nameof(y));
        if (bias.Length != 0) Check(bias.Length, m, nameof(bias));
        Span<int> o = stackalloc int[MaxRank]; Span<int> k = stackalloc int[MaxRank];
        Span<int> tapIndex = taps <= 1024 ? stackalloc int[taps] : new int[taps];
        o.Clear();
        for (int op = 0; op < outSize; op++)
        {
            k.Clear();
            for (int t = 0; t < taps; t++)
            {
                int idx = 0; bool inside = true;
                for (int d = 0; d < rank; d++)
                {
                    int num = o[d] + padsBegin[d] - k[d] * dilations[d];
                    if (num < 0 || num % strides[d] != 0) { inside = false; break; }
                    int i = num / strides[d];
                    if (i >= inSpatial[d]) { inside = false; break; }
                    idx = idx * inSpatial[d] + i;
                }
                tapIndex[t] = inside ? idx : -1;
                Advance(k, kernel, rank);
            }
            for (int b = 0; b < n; b++)
                for (int mo = 0; mo < m; mo++)
                {
                    int g = mo / mg, mi = mo - g * mg;
                    double acc = bias.Length != 0 ? bias[mo] : 0;
                    for (int ci = 0; ci < cg; ci++)
                    {
                        int cin = g * cg + ci;
                        int xBase = (b * c + cin) * inSize, wBase = (cin * mg + mi) * taps;
                        for (int t = 0; t < taps; t++)
                            if (tapIndex[t] >= 0) acc += (double)x[xBase + tapIndex[t]] * w[wBase + t];
                    }
                    y[(b * m + mo) * outSize + op] = (float)acc;
                }
            Advance(o, outSpatial, rank);
        }
    }

    /// <summary>
    /// Max or average pooling over channels = n * c planes. Max: padding never wins (no tap inside → -infinity), NaN
    /// propagates. Average: the divisor counts, with <paramref name="countIncludePad"/>, the window's taps inside
    /// [-padBegin, in + padEnd) on every axis, otherwise only the taps inside the input.
    /// </summary>
    public static void Pool(bool max, ReadOnlySpan<float> x, Span<float> y, int channels, ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial,
        ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> padsEnd, ReadOnlySpan<int> dilations, bool countIncludePad)
    {
        int rank = Validate(inSpatial, outSpatial, kernel, strides, padsBegin, dilations, nameof(Pool));
        if (padsEnd.Length != rank) throw new ArgumentException("Pool: padsEnd length must equal the spatial rank.", nameof(padsEnd));
        int inSize = Product(inSpatial), outSize = Product(outSpatial), taps = Product(kernel);
        Check(x.Length, (long)channels * inSize, nameof(x)); Check(y.Length, (long)channels * outSize, nameof(y));
        Span<int> o = stackalloc int[MaxRank]; Span<int> k = stackalloc int[MaxRank];
        Span<int> tapIndex = taps <= 1024 ? stackalloc int[taps] : new int[taps];
        o.Clear();
        for (int op = 0; op < outSize; op++)
        {
            k.Clear();
            int padded = 0;
            for (int t = 0; t < taps; t++)
            {
                int idx = 0; bool inside = true, inPadded = true;
                for (int d = 0; d < rank; d++)
                {
                    int i = o[d] * strides[d] - padsBegin[d] + k[d] * dilations[d];
                    if (i < -padsBegin[d] || i >= inSpatial[d] + padsEnd[d]) inPadded = false;
                    if ((uint)i >= (uint)inSpatial[d]) inside = false;
                    else idx = idx * inSpatial[d] + i;
                }
                if (inPadded) padded++;
                tapIndex[t] = inside ? idx : -1;
                Advance(k, kernel, rank);
            }
            for (int ch = 0; ch < channels; ch++)
            {
                int xBase = ch * inSize;
                if (max)
                {
                    float acc = float.NegativeInfinity;
                    for (int t = 0; t < taps; t++)
                        if (tapIndex[t] >= 0) acc = MathF.Max(acc, x[xBase + tapIndex[t]]);
                    y[ch * outSize + op] = acc;
                }
                else
                {
                    double acc = 0; int count = 0;
                    for (int t = 0; t < taps; t++)
                        if (tapIndex[t] >= 0) { acc += x[xBase + tapIndex[t]]; count++; }
                    y[ch * outSize + op] = (float)(acc / (countIncludePad ? padded : count));
                }
            }
            Advance(o, outSpatial, rank);
        }
    }

    private static void Advance(Span<int> idx, ReadOnlySpan<int> shape, int rank)
    {
        for (int d = rank - 1; d >= 0; d--)
        {
            if (++idx[d] < shape[d]) return;
            idx[d] = 0;
        }
    }

    private static int Product(ReadOnlySpan<int> s)
    {
        long p = 1;
        foreach (int v in s) p *= v;
        return checked((int)p);
    }

    private static void Check(int length, long expected, string name)
    {
        if (length != expected) throw new ArgumentException($"WindowNd: span length {length} does not match the shape ({expected}).", name);
    }

    private static int Validate(ReadOnlySpan<int> inSpatial, ReadOnlySpan<int> outSpatial, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides,
        ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> dilations, string what)
    {
        int rank = kernel.Length;
        if (rank is < 1 or > MaxRank || inSpatial.Length != rank || outSpatial.Length != rank || strides.Length != rank || padsBegin.Length != rank || dilations.Length != rank)
            throw new ArgumentException($"{what}: geometry spans must all have the spatial rank (1..{MaxRank}).", nameof(kernel));
        for (int d = 0; d < rank; d++)
            if (inSpatial[d] < 0 || outSpatial[d] < 0 || kernel[d] < 1 || strides[d] < 1 || dilations[d] < 1 || padsBegin[d] < 0)
                throw new ArgumentException($"{what}: geometry out of range on spatial axis {d}.", nameof(kernel));
        return rank;
    }
}

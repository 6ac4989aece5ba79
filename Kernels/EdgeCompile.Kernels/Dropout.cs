namespace EdgeCompile.Kernels;

/// <summary>
/// ONNX Dropout (opset 12+) with ratio and training_mode given at run time. In training mode with ratio &gt; 0
/// each element is kept with probability 1 - ratio and scaled by 1 / (1 - ratio) (the scale rounded to float,
/// the product in float); dropped ones become 0 · x. The draws are MT19937 seeded with <c>seed</c> at every call
/// (numpy's legacy RandomState conventions, as the ONNX reference and the reference executor), so a seeded model
/// gives the same mask on every run. Otherwise y = x and the mask is all true. Allocation-free (the generator
/// state lives on the stack).
/// </summary>
public static class Dropout
{
    /// <summary>
    /// ratio: empty (0.5) or one value in [0, 1); trainingMode: empty (false) or one value; mask: x.Length elements.
    /// </summary>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> ratio, ReadOnlySpan<bool> trainingMode, Span<float> y, Span<bool> mask, long seed)
    {
        if (y.Length != x.Length) throw new ArgumentException($"Dropout: y has {y.Length} elements, x has {x.Length}.", nameof(y));
        if (mask.Length != x.Length) throw new ArgumentException($"Dropout: mask has {mask.Length} elements, x has {x.Length}.", nameof(mask));
        if (ratio.Length > 1) throw new ArgumentException("Dropout: ratio must have one element (or none).", nameof(ratio));
        if (trainingMode.Length > 1) throw new ArgumentException("Dropout: trainingMode must have one element (or none).", nameof(trainingMode));
        if (seed < 0 || seed > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(seed), seed, "Dropout: seed must be in [0, 2^32).");
        double r = ratio.IsEmpty ? 0.5 : ratio[0];
        if (!(r >= 0 && r < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), r, "Dropout: ratio must be in [0, 1).");
        bool training = !trainingMode.IsEmpty && trainingMode[0];
        if (!training || r == 0)
        {
            x.CopyTo(y);
            mask.Fill(true);
            return;
        }
        float scale = (float)(1.0 / (1.0 - r));
        Span<uint> state = stackalloc uint[MersenneTwister.StateLength];
        var rng = new MersenneTwister(state, (uint)seed);
        for (int i = 0; i < x.Length; i++)
        {
            bool keep = rng.NextDouble(state) >= r;
            mask[i] = keep;
            y[i] = keep ? x[i] * scale : 0f * x[i];
        }
    }
}

/// <summary>
/// MT19937 over a caller-provided state span, with numpy's legacy conventions: init_genrand seeding and doubles
/// in [0, 1) from 53 bits of two draws ((a &gt;&gt; 5) · 2^26 + (b &gt;&gt; 6)) / 2^53. ONNX leaves Dropout's generator
/// unspecified; its reference implementation draws with numpy, so seeding the same way makes a seeded training-mode
/// Dropout reproducible and equal to the reference. The one implementation: the kernel and the compiler's reference
/// executor both draw from it.
/// </summary>
public ref struct MersenneTwister
{
    /// <summary>Elements of the state span (624 words).</summary>
    public const int StateLength = 624;
    private int _index;

    /// <summary>Seeds <paramref name="mt"/> (<see cref="StateLength"/> elements) with init_genrand.</summary>
    public MersenneTwister(Span<uint> mt, uint seed)
    {
        mt[0] = seed;
        for (int i = 1; i < StateLength; i++)
            mt[i] = unchecked(1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint)i);
        _index = StateLength;
    }

    /// <summary>The next 32-bit draw (tempered), twisting the state every 624 draws.</summary>
    public uint NextUInt32(Span<uint> mt)
    {
        if (_index >= StateLength)
        {
            for (int i = 0; i < StateLength; i++)
            {
                uint v = (mt[i] & 0x80000000u) | (mt[(i + 1) % StateLength] & 0x7FFFFFFFu);
                uint next = mt[(i + 397) % StateLength] ^ (v >> 1);
                if ((v & 1) != 0) next ^= 0x9908B0DFu;
                mt[i] = next;
            }
            _index = 0;
        }
        uint y = mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>A double uniformly in [0, 1) with 53 random bits (numpy's random_sample).</summary>
    public double NextDouble(Span<uint> mt)
    {
        uint a = NextUInt32(mt) >> 5, b = NextUInt32(mt) >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }
}

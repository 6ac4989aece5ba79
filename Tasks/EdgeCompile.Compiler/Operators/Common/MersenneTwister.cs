namespace EdgeCompile.Compiler.Operators.Common;

/// <summary>
/// MT19937 with numpy's legacy <c>RandomState</c> conventions: an integer seed initializes the state
/// with <c>init_genrand</c>, and a double in [0, 1) takes 53 bits from two 32-bit draws
/// (<c>(a &gt;&gt; 5) * 2^26 + (b &gt;&gt; 6)) / 2^53</c>). ONNX leaves Dropout's random generator
/// unspecified; its reference implementation draws with numpy, so seeding the same way makes a seeded
/// training-mode Dropout reproducible and equal to the reference.
/// </summary>
public sealed class MersenneTwister
{
    private readonly uint[] _mt = new uint[624];
    private int _index;

    public MersenneTwister(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < 624; i++)
            _mt[i] = unchecked(1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        _index = 624;
    }

    public uint NextUInt32()
    {
        if (_index >= 624) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>A double uniformly in [0, 1) with 53 random bits (numpy's random_sample).</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    private void Twist()
    {
        for (int i = 0; i < 624; i++)
        {
            uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % 624] & 0x7FFFFFFFu);
            uint v = _mt[(i + 397) % 624] ^ (y >> 1);
            if ((y & 1) != 0) v ^= 0x9908B0DFu;
            _mt[i] = v;
        }
        _index = 0;
    }
}

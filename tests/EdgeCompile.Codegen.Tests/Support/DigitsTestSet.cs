using EdgeCompile.Compiler.Data;

namespace EdgeCompile.Codegen.Tests.Support;

/// <summary>The digits sample's held-out test set (Samples/DigitRecognizer/model), as the digits tests read it.</summary>
public sealed class DigitsTestSet
{
    public float[] Images { get; }
    public long[] Labels { get; }
    public int Count { get; }
    /// <summary>Floats per image (1x1x8x8).</summary>
    public int Length { get; }

    public DigitsTestSet()
    {
        var x = NpyFile.Load(Path.Combine(TestPaths.DigitsModelDir, "digits_test_x.npy"));
        Labels = NpyFile.Load(Path.Combine(TestPaths.DigitsModelDir, "digits_test_y.npy")).ToInt64s();
        Images = x.As<float>();
        Count = x.Shape[0];
        Length = Images.Length / Count;
    }

    public float[] Image(int i) => Images.AsSpan(i * Length, Length).ToArray();

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }
}

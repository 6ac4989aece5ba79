using System.Reflection;

namespace EdgeCompile.Kernels.Tests;

public unsafe class WeightBlobTests
{
    private const string ResourceName = "EdgeCompile.Kernels.Tests.weights.bin";

    [Fact]
    public void ReadsAnEmbeddedResourceWithoutCopying()
    {
        var asm = typeof(WeightBlobTests).Assembly;
        var blob = WeightBlob.FromResource(asm, ResourceName);
        Assert.Equal(64, blob.Length);
        var all = blob.Get<float>(0, 16);
        for (int i = 0; i < 16; i++) Assert.Equal(i, all[i]);
        Assert.Equal(new float[] { 4, 5, 6 }, blob.Get<float>(16, 3).ToArray());
        // Zero copy: the span points into the resource's memory in the loaded image.
        using var stream = (UnmanagedMemoryStream)asm.GetManifestResourceStream(ResourceName)!;
        fixed (float* p = all) Assert.True(p == (float*)stream.PositionPointer, "the blob should point at the resource, not a copy");
    }

    [Fact]
    public void BoundsAreChecked()
    {
        var blob = WeightBlob.FromResource(typeof(WeightBlobTests).Assembly, ResourceName);
        Assert.Throws<ArgumentOutOfRangeException>(() => blob.Get<float>(4, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => blob.Get<float>(-4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => blob.Get<float>(0, -1));
        Assert.Equal(0, blob.Get<float>(64, 0).Length);
    }

    [Fact]
    public void MissingResourceSaysTheBuildStepMustEmbedIt()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => WeightBlob.FromResource(typeof(WeightBlobTests).Assembly, "Nope.weights.bin"));
        Assert.Contains("Nope.weights.bin", ex.Message);
        Assert.Contains("EdgeCompile build step", ex.Message);
    }

    [Fact]
    public void FromMemoryCopiesIntoAlignedMemory()
    {
        var bytes = new byte[12];
        BitConverter.TryWriteBytes(bytes.AsSpan(4), 2.5f);
        var blob = WeightBlob.FromMemory(bytes);
        Assert.Equal(12, blob.Length);
        Assert.Equal(2.5f, blob.Get<float>(4, 1)[0]);
        fixed (byte* p = blob.Get<byte>(0, 1)) Assert.Equal(0, (long)p % 64);
    }
}

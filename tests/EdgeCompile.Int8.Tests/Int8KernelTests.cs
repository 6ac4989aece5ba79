using EdgeCompile.Int8.Checks;

namespace EdgeCompile.Int8.Tests;

/// <summary>Runs each shared check (Int8Checks.cs) as one xunit case.</summary>
public class Int8KernelTests
{
    public static TheoryData<string> Names() => [.. Int8Checks.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void Check(string name) => Int8Checks.All.Single(c => c.Name == name).Run();

    [Fact]
    public void ValidationNamesTheParameter()
    {
        var e = Assert.Throws<ArgumentException>(() => QGemmBadWeights());
        Assert.Equal("w", e.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() => Kernels.QGemm.Run(new byte[6], 0, new sbyte[Kernels.QGemm.PackedLength(1, 3)], default, new byte[2], 2, 3, 1, [5], [0], 0, 0, 255));
        Assert.Equal("multiplier", e2.ParamName);
    }

    private static void QGemmBadWeights() => Kernels.QGemm.PackWeights([1, -128], new sbyte[Kernels.QGemm.PackedLength(1, 2)], 1, 2);
}

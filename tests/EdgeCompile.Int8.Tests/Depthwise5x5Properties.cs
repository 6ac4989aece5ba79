using CsCheck;
using EdgeCompile.Int8.Checks;

namespace EdgeCompile.Int8.Tests;

/// <summary>
/// Property test (CsCheck, shrinking to a minimal failing shape) of <c>QConv.DepthwiseConv5x5</c>: random shapes (heights and
/// widths 1..40, 1..6 channels, batch 1..2, strides 1 and 2, padding 0..3 per side), data with extremes, zero points,
/// per-channel or per-tensor requantization and fused clamp ranges (<see cref="Int8Checks.Depthwise5x5Seeded"/>); every vector
/// path of this machine must equal the scalar reference bit for bit, and the scalar reference the general convolution.
/// </summary>
public class Depthwise5x5Properties
{
    [Fact]
    public void VectorPathsMatchScalar() =>
        Gen.Select(Gen.Int, Gen.Int[1, 2], Gen.Int[1, 6], Gen.Int[1, 2], Gen.Int[1, 40], Gen.Int[1, 40], Gen.Int[0, 3].Array[4])
            .Sample((seed, stride, c, bn, h, w, pad) => Int8Checks.Depthwise5x5Seeded(seed, stride, c, bn, h, w, pad[0], pad[1], pad[2], pad[3]),
                iter: 300, threads: 1);
}

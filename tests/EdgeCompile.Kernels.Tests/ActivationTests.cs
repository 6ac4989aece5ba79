using EdgeCompile.Kernels.Tests.Support;

namespace EdgeCompile.Kernels.Tests;

public class ActivationTests
{
    [Fact]
    public void FusedActivationsAreBitExactOnEveryPath()
    {
        var r = new Random(51);
        foreach (Activation act in Enum.GetValues<Activation>())
            foreach (int len in new[] { 1, 5, 8, 13, 64 })
            {
                var x = Check.Data(r, len, -8f, 8f);
                var expected = new float[len];
                for (int i = 0; i < len; i++) expected[i] = ActivationKernel.Apply(act, x[i], 0.2f, 0.6f);
                foreach (var isa in Check.FastPaths().Append(Isa.Scalar))
                {
                    var y = (float[])x.Clone();
                    ActivationKernel.ApplyInPlace(act, y, 0.2f, 0.6f, isa);
                    Check.Exact(expected, y, $"{act} len={len} {isa}");
                }
            }
    }

    [Fact]
    public void HandComputedValues()
    {
        Assert.Equal(0f, ActivationKernel.Apply(Activation.Relu, -3f, 0, 0));
        Assert.Equal(6f, ActivationKernel.Apply(Activation.Clip, 9f, 0, 6));
        Assert.Equal(-0.3f, ActivationKernel.Apply(Activation.LeakyRelu, -3f, 0.1f, 0), 6);
        Assert.Equal(0.5f, ActivationKernel.Apply(Activation.Sigmoid, 0f, 0, 0));
        Assert.Equal(0f, ActivationKernel.Apply(Activation.Sigmoid, -1000f, 0, 0));
        Assert.Equal(1f, ActivationKernel.Apply(Activation.Sigmoid, 1000f, 0, 0));
        Assert.Equal(0.7f, ActivationKernel.Apply(Activation.HardSigmoid, 1f, 0.2f, 0.5f), 6);
        Assert.Equal(3f, ActivationKernel.Apply(Activation.HardSwish, 3f, 0, 0));
    }
}

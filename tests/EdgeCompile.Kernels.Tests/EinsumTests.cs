using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Kernels.Tests;

/// <summary>Einsum.Run over the compiler's loop plan against the reference executor (same products and order, in double: exact).</summary>
public class EinsumTests
{
    [Theory]
    [InlineData("ij,jk->ik")]
    [InlineData("bij,bjk->bik")]
    [InlineData("...ij,...jk")]
    [InlineData("ii->i")]
    [InlineData("bii->b")]
    [InlineData("ij->")]
    [InlineData("ij->ji")]
    [InlineData("i,i")]
    [InlineData("i,j->ij")]
    [InlineData("bhqd,bhkd->bhqk")]
    public void MatchesTheReferenceExecutor(string equation)
    {
        var r = new Random(equation.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
        var terms = equation.Split("->")[0].Split(',');
        for (int iter = 0; iter < 10; iter++)
        {
            var size = new Dictionary<char, int>();
            foreach (var ch in equation.Where(char.IsAsciiLetter)) size.TryAdd(ch, r.Next(1, 5));
            int[] ell = [r.Next(1, 3)];
            var shapes = terms.Select(t => t.StartsWith("...", StringComparison.Ordinal)
                ? ell.Concat(t[3..].Select(c => size[c])).ToArray()
                : t.Select(c => size[c]).ToArray()).ToArray();
            var g = new GraphBuilder();
            var data = shapes.Select(s => Enumerable.Range(0, s.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray()).ToArray();
            var names = terms.Select((_, i) => g.Input("x" + i, DataType.Float, shapes[i].Select(d => (long)d).ToArray())).ToArray();
            var y = g.Node("Einsum", names, 1, String("equation", equation))[0];
            g.Output(y, DataType.Float);
            var expected = new ReferenceExecutor(g.Build()).Run(names.Select((nm, i) => (nm, Tensor.FromArray(data[i], shapes[i]))).ToDictionary(p => p.nm, p => p.Item2))[y];

            var model = g.Build();
            var node = model.Graph.Nodes[0];
            var nc = new EdgeCompile.Compiler.Operators.InferenceContext(node, 17, _ => null, _ => null);
            var (dims, outRank, strides) = EdgeCompile.Compiler.Operators.Einsum.LoopPlan(nc, shapes);
            var actual = new float[expected.Length];
            Einsum.Run(data[0], terms.Length == 2 ? data[1] : [], actual, dims, outRank, strides[0], terms.Length == 2 ? strides[1] : []);
            Assert.Equal(expected.As<float>(), actual);
        }
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        var a = new float[6];
        Einsum.Run(a, [], new float[2], [2, 3], 1, [3, 1], []);                                                        // fits
        Assert.Throws<ArgumentException>(() => Einsum.Run(a, [], new float[2], [2, 4], 1, [3, 1], []));                  // a too short for its strides
        Assert.Throws<ArgumentException>(() => Einsum.Run(a, [], new float[3], [2, 3], 1, [3, 1], []));                  // y length
        Assert.Throws<ArgumentException>(() => Einsum.Run(a, a, new float[2], [2, 3], 1, [3, 1], [3]));                 // stride count
        Assert.Throws<ArgumentException>(() => Einsum.Run(a, a, new float[2], [2, 3], 1, [3, -1], [3, 1]));             // negative stride
    }
}

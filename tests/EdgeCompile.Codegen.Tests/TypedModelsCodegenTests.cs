using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// Small in-memory models over the newer element types and lowerings, through the whole chain (lowering, plan,
/// generator, Roslyn, real kernels): float16/bfloat16 arithmetic between casts, uint64 wrapping, QLinearMatMul with
/// float16 scale constants (weights of type f16), training-mode Dropout, MatMul on float64 with broadcasting batch
/// dims. Each output matches the reference executor (Tolerance: exact for integers, 1e-4 relative for floats) and
/// Run allocates nothing.
/// </summary>
public class TypedModelsCodegenTests
{
    private sealed record Case(string Name, Model Model, Dictionary<string, Tensor> Feeds);

    private static Case Make(string name, GraphBuilder g, params (string Name, Tensor Value)[] inputs)
    {
        foreach (var (n, v) in inputs) g.Input(n, v.DataType, v.Shape.Select(d => (long)d).ToArray());
        var model = g.Build();
        FrontEnd.Prepare(model);
        return new Case(name, model, inputs.ToDictionary(i => i.Name, i => i.Value));
    }

    private static IEnumerable<Case> Cases()
    {
        var r = new Random(1);
        Half[] H(int n) => Enumerable.Range(0, n).Select(_ => (Half)(r.NextDouble() * 8 - 4)).ToArray();

        var g = new GraphBuilder();
        g.Initializer("c", Tensor.FromArray(H(4), 4));
        string s = g.Node1("Mul", "x", "c");
        string t = g.Node1("Tanh", s);
        string m = g.Node("ReduceMean", [t], 1, Ints("axes", 1), Int("keepdims", 0))[0];
        g.Output(t, DataType.Float16);
        g.Output(m, DataType.Float16);
        yield return Make("float16 Mul, Tanh, ReduceMean", g, ("x", Tensor.FromArray(H(12), 3, 4)));

        g = new GraphBuilder();
        string bs = g.Node1("Sub", "a", "b");
        string bm = g.Node1("Max", bs, "a");
        g.Output(bm, DataType.BFloat16);
        BFloat16[] B(int n) => Enumerable.Range(0, n).Select(_ => (BFloat16)(float)(r.NextDouble() * 100 - 50)).ToArray();
        yield return Make("bfloat16 Sub, Max", g, ("a", Tensor.FromArray(B(10), 2, 5)), ("b", Tensor.FromArray(B(5), 5)));

        g = new GraphBuilder();
        string ua = g.Node1("Add", "u", "v");
        string ud = g.Node1("Div", ua, "v");
        string uc = g.Node("Cast", [ud], 1, Int("to", (long)DataType.Float16))[0];
        g.Output(ud, DataType.UInt64);
        g.Output(uc, DataType.Float16);
        yield return Make("uint64 Add (wrapping), Div, Cast to float16", g,
            ("u", Tensor.FromArray(new[] { ulong.MaxValue, 5UL, 1UL << 63, 70000UL }, 4)), ("v", Tensor.FromArray(new[] { 3UL, 7UL, 1UL << 62, 9UL }, 4)));

        g = new GraphBuilder().Opset(21);
        g.Initializer("as", Tensor.Scalar((Half)0.02));
        g.Initializer("az", Tensor.Scalar((byte)128));
        g.Initializer("w", Tensor.FromArray(Enumerable.Range(0, 6 * 4).Select(_ => (sbyte)r.Next(-127, 128)).ToArray(), 6, 4));
        g.Initializer("ws", Tensor.FromArray(Enumerable.Range(0, 4).Select(i => (Half)(0.01 + i * 0.003)).ToArray(), 4));
        g.Initializer("wz", Tensor.FromArray(new sbyte[] { 0, 1, -2, 3 }, 4));
        g.Initializer("ys", Tensor.Scalar((Half)0.05));
        g.Initializer("yz", Tensor.Scalar((byte)100));
        string q = g.Node1("QLinearMatMul", "qa", "as", "az", "w", "ws", "wz", "ys", "yz");
        g.Output(q, DataType.UInt8);
        yield return Make("QLinearMatMul with float16 scale weights", g, ("qa", Tensor.FromArray(Enumerable.Range(0, 5 * 6).Select(_ => (byte)r.Next(256)).ToArray(), 5, 6)));

        g = new GraphBuilder();
        var d = g.Node("Dropout", ["dx", "ratio", "mode"], 2, Int("seed", 42));
        g.Output(d[0], DataType.Float);
        g.Output(d[1], DataType.Bool);
        yield return Make("training Dropout", g, ("dx", Tensor.FromArray(Enumerable.Range(0, 40).Select(i => i * 0.25f - 3).ToArray(), 5, 8)),
            ("ratio", Tensor.Scalar(0.4f)), ("mode", Tensor.Scalar(true)));

        g = new GraphBuilder();
        string mm = g.Node1("MatMul", "ma", "mb");
        g.Output(mm, DataType.Double);
        double[] D(int n) => Enumerable.Range(0, n).Select(_ => r.NextDouble() * 2 - 1).ToArray();
        yield return Make("float64 MatMul, broadcasting batches", g, ("ma", Tensor.FromArray(D(2 * 1 * 3 * 4), 2, 1, 3, 4)), ("mb", Tensor.FromArray(D(3 * 4 * 5), 3, 4, 5)));
    }

    [Fact]
    public void Typed_models_match_the_reference_executor_and_run_without_allocating()
    {
        var cases = Cases().ToList();
        var prepared = new List<(Case Case, PreparedModel Model, Dictionary<string, Tensor> Expected)>();
        int i = 0;
        foreach (var c in cases)
        {
            var expected = new ReferenceExecutor(c.Model).Run(c.Feeds);
            prepared.Add((c, CodegenHarness.Lower(c.Name, c.Model, "typed.onnx", "Codegen.Typed", "T" + i++), expected));
        }
        using var assembly = CodegenHarness.Build(prepared.Select(p => p.Model).ToList(), "TypedModels");
        foreach (var (c, m, expected) in prepared)
        {
            Assert.False(assembly.Failures.TryGetValue(m, out var error), $"{c.Name}: {error}");
            var inputs = m.Inputs.Select(p => c.Feeds[p.OnnxName].Data).ToList();
            var actual = assembly.Run(m, inputs);
            for (int o = 0; o < m.Outputs.Count; o++)
            {
                var p = m.Outputs[o];
                string? diff = Tolerance.Compare(expected[p.OnnxName], p.Type, p.Shape, actual[o]);
                Assert.True(diff is null, $"{c.Name}, output {p.OnnxName}: {diff}");
            }
            Assert.Equal(0L, assembly.AllocatedBytes(m, inputs, 5));
        }
    }
}

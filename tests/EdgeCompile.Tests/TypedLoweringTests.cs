using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Tests;

/// <summary>
/// How float16/bfloat16 lower (storage-only ops directly, the rest in float32 between casts) and when backward shape
/// inference may give an unknown shape a value (only when a run-time check verifies it).
/// </summary>
public class TypedLoweringTests
{
    private static CompiledModel Lower(GraphBuilder g)
    {
        var model = g.Build();
        FrontEnd.Prepare(model);
        return Lowerer.Lower(model, "M", "N");
    }

    [Fact]
    public void Half_arithmetic_runs_in_float32_between_casts_with_constants_widened_at_build_time()
    {
        var g = new GraphBuilder();
        g.Input("x", DataType.Float16, 2, 3);
        g.Initializer("b", Tensor.FromArray(new[] { (Half)1, (Half)0.5, (Half)(-2) }, 3));
        string y = g.Node1("Add", "x", "b");
        string z = g.Node1("Relu", y);
        g.Output(z, DataType.Float16);
        var m = Lower(g);
        Assert.Equal(["Elementwise.Cast", "Elementwise.Binary", "Elementwise.Cast", "Elementwise.Cast", "Elementwise.Unary", "Elementwise.Cast"], m.Calls.Select(c => c.Call.Method));
        // The constant went into the weights as float32 (12 bytes), not as float16 (6 bytes), and x is read once.
        Assert.Equal(12, m.Weights.Length);
        Assert.Equal(DataType.Float16, m.Inputs[0].Type);
        Assert.Equal(DataType.Float16, m.Outputs[0].Type);
        string plan = ArtifactWriter.Plan(m, "m.onnx", "h");
        Assert.Contains("input 0 x f16 2x3", plan);
        Assert.Contains("call Elementwise.Cast in:0 a:f32:", plan);
        Assert.Contains(":f32:", plan);
    }

    [Fact]
    public void Half_data_movement_and_casts_need_no_widening()
    {
        var g = new GraphBuilder();
        g.Input("x", DataType.BFloat16, 2, 3);
        g.Input("w", DataType.BFloat16, 2, 3);
        string t = g.Node("Concat", ["x", "w"], 1, Int("axis", 1))[0];
        string y = g.Node("Transpose", [t], 1, Ints("perm", 1, 0))[0];
        string f = g.Node("Cast", [y], 1, Int("to", (long)DataType.Float))[0];
        g.Output(y, DataType.BFloat16);
        g.Output(f, DataType.Float);
        var m = Lower(g);
        Assert.Equal(["Data.CopyBlocks", "Data.CopyBlocks", "Data.StridedCopy", "Elementwise.Cast"], m.Calls.Select(c => c.Call.Method));
        Assert.All(m.Calls.Take(3), c => Assert.All(c.Buffers.Where(b => b is not null), b => Assert.Equal(DataType.BFloat16, b!.Type)));
    }

    [Fact]
    public void Declared_output_shape_fixes_a_reduction_with_run_time_axes()
    {
        var g = new GraphBuilder();
        g.Input("x", DataType.Float, 3, 4);
        g.Input("axes", DataType.Int64, 1);
        string s = g.Node("ReduceSum", ["x", "axes"], 1, Int("keepdims", 1))[0];
        string y = g.Node1("Sqrt", s);
        g.Output(y, DataType.Float, [3, 1]);
        var m = Lower(g);
        Assert.Equal(["Reduce.RuntimeAxes", "Elementwise.Unary"], m.Calls.Select(c => c.Call.Method));
    }

    [Fact]
    public void Declared_output_shape_is_not_trusted_through_an_unchecked_producer()
    {
        // Reshape to a shape computed at run time aliases its input without checking the shape: nothing at run time
        // would catch a wrong reading, so the backward inference must leave the value dynamic (EDGE2102).
        var g = new GraphBuilder();
        g.Input("x", DataType.Float, 3, 4);
        g.Input("shape", DataType.Int64, 2);
        string r = g.Node1("Reshape", "x", "shape");
        string y = g.Node1("Sqrt", r);
        g.Output(y, DataType.Float, [6, 2]);
        var e = Assert.Throws<EdgeException>(() => Lower(g));
        Assert.Equal(EdgeCodes.DynamicShape, e.Code);
    }
}

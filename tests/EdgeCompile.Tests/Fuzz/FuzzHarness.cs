using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Reference;
using EdgeCompile.Tests.Support;
using static EdgeCompile.Tests.Support.GraphBuilder;

namespace EdgeCompile.Tests.Fuzz;

/// <summary>How one input ended, when it ended acceptably.</summary>
public enum CaseOutcome { Rejected, Loaded, Executed }

/// <summary>
/// Runs one untrusted input through the whole front end and checks the contract: success or a coded
/// <see cref="EdgeException"/>, within a time limit and an allocation budget proportional to the file size.
/// Any other exception escapes from <see cref="Run"/> (the caller reports it as a failure).
/// </summary>
public static class FuzzHarness
{
    /// <summary>
    /// Allocation budget: 64 MB + 64 x file size. Why: a loaded model may legitimately cost a multiple of its
    /// bytes: a packed int64 list is 1 byte/element on the wire but 8 bytes in the List and 8 more in the
    /// array it is copied to (x16, x32 with List growth); decoded initializers copy raw_data once more; the
    /// IR, the value-type maps and shape inference add per-node objects that are a small multiple of the node's
    /// bytes. 64x covers all of that with margin. The 64 MB constant covers what does not scale with the
    /// file: runtime/JIT noise, constant folding (each folded result is capped at MaxFoldElements) and
    /// running the executor on inputs of at most <see cref="MaxInputElements"/> elements.
    /// Anything beyond it is an amplification a hostile file could use to exhaust memory.
    /// </summary>
    public static long AllocationBudget(int fileBytes) => (64L << 20) + 64L * fileBytes;

    /// <summary>
    /// Executing adds a fixed per-node overhead (input array, context, the double/long working copies the
    /// reference operators make, the output tensor): about 4.5 KB per node on the small tensors the gating below
    /// allows, measured on a 100k-node chain. We allow 8 KB per executed node on top of the load budget; the
    /// node count is itself bounded by the file size (a node takes at least a few bytes), so this stays linear.
    /// </summary>
    public const long ExecutionBytesPerNode = 8 << 10;

    /// <summary>Executions are skipped unless every graph input is static and at most this many elements.</summary>
    public const long MaxInputElements = FuzzTarget.MaxInputElements;
    /// <summary>... and every statically inferred value is at most this many elements (keeps cases fast).</summary>
    public const long MaxValueElements = FuzzTarget.MaxValueElements;

    /// <summary>
    /// Loads (from <paramref name="path"/> when given, else from memory), decodes every initializer and, for
    /// models with small static inputs, executes once with zero-filled inputs (<see cref="FuzzTarget.Exercise"/>,
    /// shared with the afl++ harness in tests/EdgeCompile.Fuzz). Returns the outcome and the
    /// EDGE code when rejected; throws anything that is not an <see cref="EdgeException"/>, and throws
    /// <see cref="FuzzContractViolation"/> for an uncoded/unknown code or an allocation over the budget.
    /// </summary>
    public static (CaseOutcome Outcome, string? Code) Run(byte[] bytes, string? path)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long budget = AllocationBudget(bytes.Length);
        long executedNodes = 0;
        void CheckAllocation(string stage)
        {
            if (stage == "execution") budget = AllocationBudget(bytes.Length) + ExecutionBytesPerNode * executedNodes;
            long used = GC.GetAllocatedBytesForCurrentThread() - before;
            if (used > budget)
                throw new FuzzContractViolation($"allocated {used:N0} bytes by the end of {stage}, over the budget of {budget:N0} for a {bytes.Length}-byte file");
        }
        try
        {
            Model model;
            if (path is not null) model = FrontEnd.Load(path);
            else
            {
                model = ModelFile.Parse(bytes);
                FrontEnd.Prepare(model);
            }
            using (model)
            {
                bool executed = FuzzTarget.Exercise(model, () =>
                {
                    CheckAllocation("loading");
                    executedNodes = model.Graph.Nodes.Count;
                });
                if (!executed) return (CaseOutcome.Loaded, null);
                CheckAllocation("execution");
                return (CaseOutcome.Executed, null);
            }
        }
        catch (EdgeException e)
        {
            CheckAllocation("rejection");
            if (FuzzTarget.CodeViolation(e) is { } violation) throw new FuzzContractViolation(violation);
            return (CaseOutcome.Rejected, e.Code);
        }
    }

    /// <summary>Zero-filled inputs of the declared static shapes, or null when the model should not be executed.</summary>
    public static Dictionary<string, Tensor>? ZeroInputs(Model model) => FuzzTarget.ZeroInputs(model);

    // ------------------------------------------------------------------ seeds

    /// <summary>The seed corpus: the sample model, small models built here, and the bad-input corpus.</summary>
    public static List<(string Name, byte[] Bytes)> Seeds()
    {
        var seeds = new List<(string, byte[])>();
        var digits = Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model", "digits.onnx");
        if (File.Exists(digits)) seeds.Add(("digits.onnx", File.ReadAllBytes(digits)));
        foreach (var (name, m) in BuiltSeeds()) seeds.Add((name, OnnxWriter.Write(m)));
        var bad = Path.Combine(TestPaths.TestDir, "Corpus", "bad");
        foreach (var f in Directory.GetFiles(bad, "*.onnx").OrderBy(f => f, StringComparer.Ordinal))
            seeds.Add(("bad/" + Path.GetFileName(f), File.ReadAllBytes(f)));
        return seeds;
    }

    /// <summary>Small valid models exercising attributes, integer initializers and opset-dependent forms.</summary>
    public static IEnumerable<(string Name, Model Model)> BuiltSeeds()
    {
        {
            var b = new GraphBuilder();
            var x = b.Input("x", DataType.Float, 1, 4);
            var w = b.Initializer("w", Tensor.FromArray(new float[] { 1, -2, 3, -4 }, 4));
            var t = b.Node1("Add", x, w);
            var y = b.Node1("Relu", t);
            b.Output(y, DataType.Float, [1, 4]);
            yield return ("add_relu", b.Build());
        }
        {
            var b = new GraphBuilder();
            var x = b.Input("x", DataType.Float, 2, 3, 4);
            var a = b.Node("Transpose", [x], 1, Ints("perm", 2, 0, 1))[0];
            var shape = b.Initializer("shape", Tensor.FromArray(new long[] { 4, -1 }, 2));
            var r = b.Node1("Reshape", a, shape);
            var c = b.Node("Concat", [r, r], 1, Int("axis", 1))[0];
            var y = b.Node("Softmax", [c], 1, Int("axis", -1))[0];
            b.Output(y, DataType.Float, [4, 12]);
            yield return ("transpose_reshape_concat_softmax", b.Build());
        }
        {
            var b = new GraphBuilder();
            var x = b.Input("x", DataType.Float, 3, 4);
            var axes = b.Initializer("axes", Tensor.FromArray(new long[] { 1 }, 1));
            var r = b.Node("ReduceSum", [x, axes], 1, Int("keepdims", 1))[0];
            var idx = b.Initializer("idx", Tensor.FromArray(new long[] { 0, 2, -1 }, 3));
            var gth = b.Node("Gather", [x, idx], 1, Int("axis", 0))[0];
            var rr = b.Node("Transpose", [r], 1, Ints("perm", 1, 0))[0];
            var s = b.Node1("Add", gth, b.Node("ReduceSum", [rr, axes], 1, Int("keepdims", 1))[0]);
            b.Output(s, DataType.Float, [3, 4]);
            yield return ("reducesum_gather", b.Build());
        }
        {
            var b = new GraphBuilder();
            var x = b.Input("x", DataType.Float, 2, 5);
            var st = b.Initializer("starts", Tensor.FromArray(new long[] { 0, 1 }, 2));
            var en = b.Initializer("ends", Tensor.FromArray(new long[] { 2, 4 }, 2));
            var ax = b.Initializer("axes", Tensor.FromArray(new long[] { 0, 1 }, 2));
            var sp = b.Initializer("steps", Tensor.FromArray(new long[] { 1, 1 }, 2));
            var s = b.Node1("Slice", x, st, en, ax, sp);
            var pads = b.Initializer("pads", Tensor.FromArray(new long[] { 0, 1, 1, 0 }, 4));
            var cv = b.Initializer("cv", Tensor.Scalar(0.5f));
            var p = b.Node("Pad", [s, pads, cv], 1, String("mode", "constant"))[0];
            var q = b.Node("Pad", [p, pads], 1, String("mode", "reflect"))[0];
            b.Output(q, DataType.Float, [4, 5]);
            yield return ("slice_pad", b.Build());
        }
        {
            // Opset 9: Slice, Pad, ReduceSum take their parameters as attributes.
            var b = new GraphBuilder().Opset(9);
            var x = b.Input("x", DataType.Float, 2, 6);
            var s = b.Node("Slice", [x], 1, Ints("starts", 0, 1), Ints("ends", 2, 5), Ints("axes", 0, 1))[0];
            var p = b.Node("Pad", [s], 1, Ints("pads", 1, 0, 0, 2), Float("value", 1.5f), String("mode", "edge"))[0];
            var r = b.Node("ReduceSum", [p], 1, Ints("axes", 0), Int("keepdims", 0))[0];
            var sm = b.Node("Softmax", [p], 1, Int("axis", 1))[0];
            var c = b.Node("Concat", [sm, sm], 1, Int("axis", 0))[0];
            b.Output(r, DataType.Float, [6]);
            b.Output(c, DataType.Float);
            yield return ("opset9_attributes", b.Build());
        }
        {
            // Constant node (tensor attribute), integer types, Gather with int32 indices.
            var b = new GraphBuilder();
            var x = b.Input("x", DataType.Int64, 4);
            var k = b.Node("Constant", [], 1, TensorAttr("value", Tensor.FromArray(new long[] { 5, 6, 7, 8 }, 4)))[0];
            var s = b.Node1("Add", x, k);
            var idx = b.Node("Constant", [], 1, TensorAttr("value", Tensor.FromArray(new int[] { 3, 0 }, 2)))[0];
            var g = b.Node("Gather", [s, idx], 1, Int("axis", 0))[0];
            var r = b.Node("ReduceSum", [g], 1, Int("keepdims", 0))[0];
            b.Output(r, DataType.Int64, []);
            yield return ("constant_int64_gather", b.Build());
        }
        {
            // Shape-computing chain folded at load time, and several dtypes in initializers.
            var b = new GraphBuilder();
            var x = b.Input("x", DataType.Float, 2, 2, 3);
            var h = b.Initializer("h", Tensor.FromArray(new Half[] { (Half)1, (Half)2, (Half)3 }, 3));
            var u8 = b.Initializer("u8", Tensor.FromArray(new byte[] { 1, 2, 3 }, 3));
            var bo = b.Initializer("bo", Tensor.FromArray(new bool[] { true, false, true }, 3));
            var h2 = b.Node1("Add", h, h);
            var u2 = b.Node1("Add", u8, u8);
            var t = b.Node("Transpose", [x], 1, Ints("perm", 0, 2, 1))[0];
            var shp = b.Initializer("shp", Tensor.FromArray(new long[] { 0, -1 }, 2));
            var r = b.Node1("Reshape", t, shp);
            var sm = b.Node("Softmax", [r], 1, Int("axis", 1))[0];
            b.Output(sm, DataType.Float, [2, 6]);
            b.Output(h2, DataType.Float16, [3]);
            b.Output(u2, DataType.UInt8, [3]);
            b.Output(bo, DataType.Bool, [3]);
            yield return ("dtypes_fold", b.Build());
        }
    }
}

/// <summary>The input ended acceptably-typed but broke another part of the contract (budget, bad code).</summary>
public sealed class FuzzContractViolation(string message) : Exception(message);

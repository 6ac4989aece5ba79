using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Passes;

/// <summary>
/// Shape and Size of a value whose shape is static are constants even when the value is computed at run time
/// (the lowering requires static shapes anyway). Replaces them by initializers, then folds what they feed
/// (Gather, Concat, Reshape targets...) and drops the dead nodes. Shape follows the opset 15 start/end rule
/// (negative values count from the back, both clamped to [0, rank]).
/// Folding makes values constant that shape inference saw as unknown (ConstantOfShape of a folded shape, Range of
/// folded bounds): shapes are inferred again and folding repeats until nothing changes.
/// </summary>
public static class FoldStaticShapes
{
    public static int Run(Model model, long maxFoldElements = 1 << 20)
    {
        int total = 0;
        for (int round = 0; round < 16; round++)
        {
            int folded = RunOnce(model, maxFoldElements);
            // Re-infer with the new constants, then fold what became computable (its output shape now static).
            InferShapes.Run(model);
            int more = FoldConstants.Run(model, maxFoldElements);
            if (more > 0) RemoveDeadCode.Run(model);
            folded += more;
            total += folded;
            if (folded == 0) break;
        }
        return total;
    }

    private static int RunOnce(Model model, long maxFoldElements)
    {
        var g = model.Graph;
        int folded = 0;
        foreach (var n in g.Nodes.Where(n => n.OpType is "Shape" or "Size" && n.Domain.Length == 0).ToList())
        {
            if (n.Inputs.Count != 1 || n.Outputs.Count != 1 || n.Outputs[0].Length == 0) continue;
            if (g.TypeOf(n.Inputs[0])?.StaticShape is not { } shape) continue;
            Tensor value;
            if (n.OpType == "Size")
            {
                value = Tensor.Scalar(Shapes.Product(shape));
            }
            else
            {
                int rank = shape.Length;
                int Clamp(long v) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
                int start = Clamp(n.GetAttribute("start")?.I ?? 0), end = Math.Max(start, Clamp(n.GetAttribute("end")?.I ?? rank));
                var dims = shape[start..end].Select(d => (long)d).ToArray();
                value = Tensor.FromArray(dims, dims.Length);
            }
            g.Initializers.Set(new Constant(n.Outputs[0], value));
            g.ValueTypes[n.Outputs[0]] = IR.ValueType.FromShape(value.DataType, value.Shape);
            g.Nodes.Remove(n);
            folded++;
        }
        if (folded > 0)
        {
            FoldConstants.Run(model, maxFoldElements);
            RemoveDeadCode.Run(model);
        }
        return folded;
    }
}

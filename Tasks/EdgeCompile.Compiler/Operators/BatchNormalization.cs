using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// BatchNormalization: Y = (X - mean) / sqrt(var + epsilon) * scale + B per channel (axis 1; a 1-D input
/// is N with C = 1). Inference mode uses the given running statistics. With training_mode=1 (opset 14+)
/// the statistics of the batch are used instead (population variance over every axis but 1) and the
/// optional outputs 1 and 2 are the updated running statistics, input * momentum + batch * (1 - momentum).
/// Before opset 9, spatial=0 gives per-activation parameters of shape [C, D1, ..., Dn]. The training
/// outputs of opsets before 14 (saved mean/variance) are not supported.
/// </summary>
public sealed class BatchNormalization : Operator
{
    public override string OpType => "BatchNormalization";
    public override IReadOnlyCollection<string> Attributes => ["epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"];
    public override int MinInputs => 5;
    public override int MaxInputs => 5;
    public override int MaxOutputs => 5;

    private static bool Training(NodeContext ctx)
    {
        if (ctx.Opset >= 14)
        {
            if (ctx.OutputCount > 3)
                throw ctx.Error(EdgeCodes.InvalidArity, $"BatchNormalization-{ctx.Opset} has at most 3 outputs (Y, running_mean, running_var); this node has {ctx.OutputCount}.");
            bool training = ctx.GetInt("training_mode", 0) != 0;
            if (!training && Enumerable.Range(1, 2).Any(ctx.HasOutput))
                throw ctx.Error(EdgeCodes.InvalidArity, "BatchNormalization outputs running_mean and running_var exist only with training_mode=1; remove them or set training_mode.");
            return training;
        }
        if (ctx.HasAttribute("training_mode"))
            throw ctx.Error(EdgeCodes.InvalidAttribute, $"'training_mode' exists for BatchNormalization from opset 14; this model imports opset {ctx.Opset}.");
        if (Enumerable.Range(1, 4).Any(ctx.HasOutput))
            throw ctx.Error(EdgeCodes.InvalidArity, $"BatchNormalization-{ctx.Opset} with training outputs (mean, var, saved_mean, saved_var) is not supported; export the model in inference mode (one output) or use opset 14+ with training_mode=1.");
        return false;
    }

    /// <summary>Per-activation parameters (spatial=0, opsets 6-8) instead of per-channel ones.</summary>
    private static bool PerActivation(NodeContext ctx) => ctx.Opset < 9 && ctx.GetInt("spatial", 1) == 0;

    public override void InferTypes(InferenceContext ctx)
    {
        bool training = Training(ctx);
        var elem = ctx.InputElemType(0);
        ReduceHelpers.RequireFloat(ctx, elem);
        var shape = ctx.InputShape(0);
        if (shape is not null && shape.Length == 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, "BatchNormalization needs an input of rank 1 or more (N x C x D1 ...), got a scalar.");
        ctx.SetOutput(0, elem, shape);
        if (training)
        {
            // running_mean / running_var have the type and shape of the mean / var inputs (T2 in opset 15).
            for (int i = 1; i <= 2; i++)
                if (ctx.InputType(2 + i) is { } t) ctx.SetOutput(i, t.ElemType, t.Shape);
        }
    }

    public override void Execute(ExecutionContext ctx)
    {
        bool training = Training(ctx);
        var x = ctx.RequireInput(0);
        ReduceHelpers.RequireFloat(ctx, x.DataType);
        if (x.Rank == 0)
            throw ctx.Error(EdgeCodes.ShapeMismatch, "BatchNormalization needs an input of rank 1 or more (N x C x D1 ...), got a scalar.");
        double epsilon = ctx.GetFloat("epsilon", 1e-5f);
        double momentum = ctx.GetFloat("momentum", 0.9f);

        int n = x.Shape[0];
        int channels = x.Rank == 1 ? 1 : x.Shape[1];
        int spatial = x.Rank <= 2 ? 1 : (int)Shapes.Product(x.Shape.AsSpan(2));
        bool perActivation = PerActivation(ctx);
        // Parameters are per channel, or (spatial=0) per activation: one value per element of a sample.
        int paramCount = perActivation ? channels * spatial : channels;
        double[] Param(int i, string name) => perActivation
            ? ReduceHelpers.BroadcastTo(ctx, ctx.RequireInput(i), x.Shape.Length == 1 ? [1] : x.Shape[1..], name)
            : ReduceHelpers.PerChannel(ctx, ctx.RequireInput(i), channels, name);
        var scale = Param(1, "scale");
        var bias = Param(2, "B");
        var mean = Param(3, "input_mean");
        var variance = Param(4, "input_var");

        var v = x.ToDoubles();
        // Element e belongs to sample e / (C*S), channel e / S % C, parameter slot as below.
        int ParamIndex(int e) => perActivation ? e % paramCount : e / spatial % channels;

        if (training)
        {
            // Statistics of the batch per channel (ONNX BatchNormalization-15: biased variance over N and D1..Dn).
            var batchMean = new double[channels];
            var batchVar = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                var values = new List<double>(n * spatial);
                for (int s = 0; s < n; s++)
                    for (int k = 0; k < spatial; k++)
                        values.Add(v[(s * channels + c) * spatial + k]);
                (batchMean[c], batchVar[c]) = ReduceHelpers.MeanAndVariance(values);
            }
            var runningMean = new double[channels];
            var runningVar = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                runningMean[c] = mean[c] * momentum + batchMean[c] * (1 - momentum);
                runningVar[c] = variance[c] * momentum + batchVar[c] * (1 - momentum);
            }
            mean = batchMean;
            variance = batchVar;
            var meanType = ctx.RequireInput(3).DataType;
            var varType = ctx.RequireInput(4).DataType;
            ctx.SetOutput(1, Tensor.FromDoubles(meanType, [channels], runningMean));
            ctx.SetOutput(2, Tensor.FromDoubles(varType, [channels], runningVar));
        }

        var y = new double[v.Length];
        for (int e = 0; e < v.Length; e++)
        {
            int p = ParamIndex(e);
            y[e] = (v[e] - mean[p]) / Math.Sqrt(variance[p] + epsilon) * scale[p] + bias[p];
        }
        ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, y));
    }
}

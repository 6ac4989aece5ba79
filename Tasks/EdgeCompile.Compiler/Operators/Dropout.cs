using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Operators.Common;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Dropout in inference: output = input, optional mask all true. Opset 7: 'ratio' attribute, mask of the
/// input's type (all ones); opset 10: mask is bool; opset 12+: 'ratio' (default 0.5) and 'training_mode'
/// (default false) are optional inputs, and 'seed' an attribute. Training mode with ratio &gt; 0 keeps each
/// element with probability 1 - ratio and scales kept ones by 1 / (1 - ratio); the draw is MT19937 seeded
/// like numpy (the ONNX reference), with seed 0 when the attribute is absent, so results are reproducible.
/// With ratio 0 it is the identity too (spec).
/// </summary>
public sealed class Dropout : Operator
{
    public override string OpType => "Dropout";
    public override IReadOnlyCollection<string> Attributes => ["ratio", "seed"];
    public override int MaxInputs => 3;
    public override int MaxOutputs => 2;

    private static void CheckForm(NodeContext ctx)
    {
        if (ctx.Opset >= 12)
        {
            if (ctx.HasAttribute("ratio"))
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"Since opset 12 Dropout takes 'ratio' as input 1, not as an attribute (model opset {ctx.Opset}).");
        }
        else
        {
            if (ctx.HasInput(1) || ctx.HasInput(2))
                throw ctx.Error(EdgeCodes.InvalidArity, $"Before opset 12 Dropout has a single input; 'ratio' is an attribute (model opset {ctx.Opset}).");
            CheckRatio(ctx, ctx.GetFloat("ratio", 0.5f), EdgeCodes.InvalidAttribute);
        }
    }

    private static void CheckRatio(NodeContext ctx, double ratio, string code)
    {
        if (!(ratio >= 0 && ratio < 1))
            throw ctx.Error(code, $"Dropout ratio must be in [0, 1), got {ratio}.");
    }

    private static DataType MaskType(NodeContext ctx, DataType input) => ctx.Opset >= 10 ? DataType.Bool : input;

    public override void InferTypes(InferenceContext ctx)
    {
        CheckForm(ctx);
        var x = ctx.InputType(0);
        if (ctx.InputType(1) is { } r)
        {
            UnaryHelpers.CheckType(ctx, r.ElemType, UnaryHelpers.IsFloat, "a float type", "ratio");
            UnaryHelpers.CheckScalarShape(ctx, 1, "ratio");
        }
        if (ctx.InputType(2) is { } m)
        {
            UnaryHelpers.CheckType(ctx, m.ElemType, UnaryHelpers.IsBool, "bool", "training_mode");
            UnaryHelpers.CheckScalarShape(ctx, 2, "training_mode");
        }
        if (x is null) return;
        UnaryHelpers.CheckType(ctx, x.ElemType, UnaryHelpers.IsFloat, "a float type");
        ctx.SetOutput(0, x.ElemType, x.Shape);
        ctx.SetOutput(1, MaskType(ctx, x.ElemType), x.Shape);
    }

    public override void Execute(ExecutionContext ctx)
    {
        CheckForm(ctx);
        var x = ctx.RequireInput(0);
        UnaryHelpers.CheckType(ctx, x.DataType, UnaryHelpers.IsFloat, "a float type");
        bool training = false;
        if (ctx.Input(2) is { } modeTensor)
        {
            UnaryHelpers.CheckType(ctx, modeTensor.DataType, UnaryHelpers.IsBool, "bool", "training_mode");
            training = UnaryHelpers.RequireScalar(ctx, modeTensor, "training_mode").ToBools()[0];
        }
        double ratioValue = 0.5;
        if (ctx.Input(1) is { } ratioTensor)
        {
            UnaryHelpers.CheckType(ctx, ratioTensor.DataType, UnaryHelpers.IsFloat, "a float type", "ratio");
            ratioValue = UnaryHelpers.RequireScalar(ctx, ratioTensor, "ratio").ToDoubles()[0];
            CheckRatio(ctx, ratioValue, EdgeCodes.InvalidValue);
        }
        if (training && ratioValue > 0)
        {
            long seed = ctx.GetInt("seed", 0);
            if (seed < 0 || seed > uint.MaxValue)
                throw ctx.Error(EdgeCodes.InvalidAttribute, $"Dropout seed {seed} must be in [0, 2^32).");
            var state = new uint[EdgeCompile.Kernels.MersenneTwister.StateLength];
            var rng = new EdgeCompile.Kernels.MersenneTwister(state, (uint)seed);
            var xs = x.ToDoubles();
            var keep = new bool[xs.Length];
            // The scale is applied in the element type, as numpy does for float32 arrays.
            double scale = (double)Tensor.FromDoubles(x.DataType, [], [1.0 / (1.0 - ratioValue)]).ToDoubles()[0];
            for (int i = 0; i < xs.Length; i++)
            {
                keep[i] = rng.NextDouble(state) >= ratioValue;
                xs[i] = keep[i] ? xs[i] * scale : 0.0 * xs[i];
            }
            ctx.SetOutput(0, Tensor.FromDoubles(x.DataType, x.Shape, xs));
            if (ctx.HasOutput(1)) ctx.SetOutput(1, new Tensor(DataType.Bool, x.Shape, keep));
            return;
        }

        ctx.SetOutput(0, x);
        if (ctx.HasOutput(1))
        {
            var maskType = MaskType(ctx, x.DataType);
            var ones = new double[x.Length];
            Array.Fill(ones, 1.0);
            ctx.SetOutput(1, Tensor.FromDoubles(maskType, x.Shape, ones));
        }
    }
}

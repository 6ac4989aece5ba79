using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Operators;

/// <summary>
/// Constant (opset 1+): outputs the tensor given by exactly one attribute. 'value' always; 'sparse_value'
/// from opset 11 (the importer densifies it into <see cref="IR.Attribute.T"/>); value_float(s)/value_int(s)
/// from opset 12 (a scalar or a 1-D tensor of float/int64). value_string(s) would be string tensors,
/// which the compiler does not support.
/// </summary>
public sealed class Constant : Operator
{
    public override string OpType => "Constant";
    private static readonly string[] s_valueAttributes =
        ["value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings"];
    public override IReadOnlyCollection<string> Attributes => s_valueAttributes;
    public override int MinInputs => 0;
    public override int MaxInputs => 0;

    public override void InferTypes(InferenceContext ctx)
    {
        var t = Value(ctx);
        ctx.SetOutput(0, t.DataType, t.Shape);
    }

    public override void Execute(ExecutionContext ctx) => ctx.SetOutput(0, Value(ctx));

    private static Tensor Value(NodeContext ctx)
    {
        var given = s_valueAttributes.Where(ctx.HasAttribute).ToList();
        if (given.Count != 1)
            throw ctx.Error(EdgeCodes.InvalidAttribute,
                $"Constant needs exactly one of its value attributes, got {(given.Count == 0 ? "none" : string.Join(", ", given))}.");
        switch (given[0])
        {
            case "value":
                return ctx.GetTensor("value") ?? throw ctx.Error(EdgeCodes.InvalidAttribute, "Attribute 'value' holds no tensor.");
            case "sparse_value":
            {
                var a = ctx.Node.GetAttribute("sparse_value")!;
                if (a.Kind != AttributeKind.SparseTensor)
                    throw ctx.Error(EdgeCodes.InvalidAttribute, $"Attribute 'sparse_value' is {a.Kind}, expected SparseTensor.");
                return a.T?.Value ?? throw ctx.Error(EdgeCodes.InvalidAttribute, "Attribute 'sparse_value' holds no tensor.");
            }
            case "value_float":
                return Tensor.Scalar(ctx.GetFloat("value_float", 0));
            case "value_floats":
            {
                var f = ctx.GetFloats("value_floats")!;
                return Tensor.FromArray((float[])f.Clone(), f.Length);
            }
            case "value_int":
                return Tensor.Scalar(ctx.GetInt("value_int", 0));
            case "value_ints":
            {
                var l = ctx.GetInts("value_ints")!;
                return Tensor.FromArray((long[])l.Clone(), l.Length);
            }
            default: // value_string, value_strings
                throw ctx.Error(EdgeCodes.UnsupportedDataType, $"Constant attribute '{given[0]}' produces a string tensor; string tensors are not supported.");
        }
    }
}

using EdgeCompile.Generators.Model;

namespace EdgeCompile.Generators;

public sealed partial class EdgePlanGenerator
{
    /// <summary>Labels for the meta keys docs/edgeplan.md lists; other keys are shown as they are.</summary>
    private static readonly Dictionary<string, string> s_metaLabels = new(StringComparer.Ordinal)
    {
        ["source"] = "Source",
        ["producer"] = "Producer",
        ["opset"] = "Opset",
        ["precision"] = "Precision",
        ["parameters"] = "Parameters",
        ["weight-bytes"] = "Weight bytes",
        ["arena-bytes"] = "Arena bytes",
        ["macs"] = "Multiply-accumulates per run",
        ["layers"] = "Layers",
        ["compiler"] = "Compiler",
        ["model-hash"] = "Model hash",
        ["weights-hash"] = "Weights hash",
    };

    // The class's <summary> (the model, from the meta/input/output/doc lines) and <remarks> (threading).
    private static void WriteClassDocs(SourceWriter writer, PlanSpec plan)
    {
        string source = plan.Meta.FirstOrDefault(static m => m.Key == "source")?.Value ?? plan.PlanFileName;
        writer.WriteLine("/// <summary>");
        writer.WriteLine("/// The ONNX model <c>" + Xml(source) + "</c>, compiled ahead of time by EdgeCompile into " + Inv(plan.Calls.Count) + " kernel calls.");
        writer.WriteLine("/// <list type=\"bullet\">");
        foreach (TensorSpec input in plan.Inputs)
        {
            writer.WriteLine("/// <item><description>" + TensorDoc("Input", input) + "</description></item>");
        }
        foreach (TensorSpec output in plan.Outputs)
        {
            writer.WriteLine("/// <item><description>" + TensorDoc("Output", output) + "</description></item>");
        }
        foreach (MetaSpec meta in plan.Meta)
        {
            string label = s_metaLabels.TryGetValue(meta.Key, out string? known) ? known : meta.Key;
            writer.WriteLine("/// <item><description>" + Xml(label) + ": " + Xml(meta.Value) + "</description></item>");
        }
        writer.WriteLine("/// </list>");
        writer.WriteLine("/// </summary>");
        writer.WriteLine("/// <remarks>");
        writer.WriteLine("/// <c>Run</c> is not re-entrant on one instance: intermediate tensors live in the instance's arena.");
        writer.WriteLine("/// Create one instance per thread; instances are cheap: the weights are shared.");
        writer.WriteLine("/// </remarks>");
    }

    // Run's <summary>, one <param> per input and output, and the exception.
    private static void WriteRunDocs(SourceWriter writer, PlanSpec plan)
    {
        writer.WriteLine("/// <summary>Runs the model: reads the inputs, writes the outputs. Allocates nothing.</summary>");
        foreach (TensorSpec input in plan.Inputs)
        {
            writer.WriteLine("/// <param name=\"" + input.Name + "\">" + TensorDoc("Input", input) + "</param>");
        }
        foreach (TensorSpec output in plan.Outputs)
        {
            writer.WriteLine("/// <param name=\"" + output.Name + "\">" + TensorDoc("Output", output) + "</param>");
        }
        writer.WriteLine("/// <exception cref=\"global::System.ArgumentException\">A span's length differs from its <c>...Length</c> constant.</exception>");
    }

    /// <summary>"Input <c>x</c> (ONNX <c>input.1</c>): float, shape 1x1x8x8, 64 elements. Description."</summary>
    private static string TensorDoc(string kind, TensorSpec tensor)
    {
        string text = kind + " <c>" + tensor.Name + "</c>";
        if (tensor.OnnxName is not null)
        {
            text += " (ONNX <c>" + Xml(tensor.OnnxName) + "</c>)";
        }
        text += ": " + CSharpType(tensor.Type) + ", shape " + ShapeText(tensor) + ", " + Inv(tensor.Length) + " elements.";
        if (tensor.Doc is not null)
        {
            text += " " + Xml(tensor.Doc);
        }
        return text;
    }

    private static string Xml(string text)
        => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}

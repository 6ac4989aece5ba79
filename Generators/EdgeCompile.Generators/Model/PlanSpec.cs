namespace EdgeCompile.Generators.Model;

/// <summary>One parsed <c>.edgeplan</c>: everything the emitter needs, nothing Roslyn-specific.</summary>
/// <param name="PlanFileName">The plan's file name (no folder, so moving obj/ does not regenerate), for the header comment.</param>
/// <param name="Namespace">Dotted namespace; empty for the global namespace.</param>
/// <param name="Resource">Logical name of the embedded weights, or null when the model has no weights.</param>
/// <param name="Meta">The <c>meta</c> lines in plan order.</param>
/// <param name="Calls">The kernel calls in execution order.</param>
internal sealed record PlanSpec(
    string PlanFileName,
    string Namespace,
    string ClassName,
    string? Resource,
    int ArenaBytes,
    long WeightBytes,
    long Parameters,
    EquatableArray<MetaSpec> Meta,
    EquatableArray<TensorSpec> Inputs,
    EquatableArray<TensorSpec> Outputs,
    EquatableArray<CallSpec> Calls);

/// <summary>A <c>meta &lt;key&gt; &lt;value&gt;</c> line.</summary>
internal sealed record MetaSpec(string Key, string Value);

/// <summary>An <c>input</c> or <c>output</c> line, with the <c>doc</c> line that follows it, if any.</summary>
/// <param name="Dims">Empty for a scalar (<c>-</c> in the plan).</param>
internal sealed record TensorSpec(
    int Index,
    string Name,
    DataType Type,
    EquatableArray<int> Dims,
    string? OnnxName,
    string? Doc)
{
    /// <summary>Element count (1 for a scalar); the parser guarantees it fits in an int.</summary>
    public int Length
    {
        get
        {
            int length = 1;
            foreach (int dim in Dims)
            {
                length *= dim;
            }
            return length;
        }
    }
}

/// <summary>A <c>node</c> line: one ONNX node the next call computes.</summary>
internal sealed record NodeSpec(int Index, string OpType, string Name);

/// <summary>
/// A <c>call &lt;Type&gt;.&lt;Method&gt; args...</c> line with the <c>node</c> lines before it.
/// </summary>
/// <param name="Ordinal">0-based position among the plan's calls (for a comment when no node line precedes the call).</param>
/// <param name="TypeArguments">Explicit generic arguments (<c>Data.Copy&lt;f32&gt;</c>); usually empty.</param>
internal sealed record CallSpec(
    int Ordinal,
    EquatableArray<NodeSpec> Nodes,
    string Type,
    string Method,
    EquatableArray<DataType> TypeArguments,
    EquatableArray<ArgumentSpec> Arguments);

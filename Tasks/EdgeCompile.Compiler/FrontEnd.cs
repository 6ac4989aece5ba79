using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Compiler.Passes;

namespace EdgeCompile.Compiler;

/// <summary>
/// The front end as one call: read the file, validate the graph, check every operator is supported,
/// infer shapes, fold constants and drop dead code. Every user-caused problem surfaces as a coded
/// <see cref="EdgeException"/> naming the file (and node).
/// </summary>
public static class FrontEnd
{
    public static Model Load(string path, FrontEndOptions? options = null)
    {
        options ??= new FrontEndOptions();
        var model = ModelFile.Load(path, options.Limits);
        try
        {
            Prepare(model, options);
            return model;
        }
        catch (EdgeException e)
        {
            model.Dispose();
            throw e.WithFile(path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs the checks and passes on a model already in memory.</summary>
    public static void Prepare(Model model, FrontEndOptions? options = null)
    {
        options ??= new FrontEndOptions();
        if (model.Graph.Nodes.Count > options.MaxNodes)
            throw new EdgeException(EdgeCodes.LimitExceeded, $"The graph has {model.Graph.Nodes.Count} nodes, over the limit of {options.MaxNodes}.");
        GraphValidator.Validate(model.Graph);
        GraphValidator.CheckSupported(model);
        if (options.InputShapes is not null) InferShapes.BindInputShapes(model, options.InputShapes);
        InferShapes.Run(model);
        if (options.Optimize)
        {
            FoldConstants.Run(model, options.MaxFoldElements, options.PreserveQuantization);
            RemoveDeadCode.Run(model);
        }
    }
}

public sealed record FrontEndOptions
{
    public ReaderLimits Limits { get; init; } = ReaderLimits.Default;
    /// <summary>Largest graph accepted (nodes), a guard against resource exhaustion.</summary>
    public int MaxNodes { get; init; } = 1_000_000;
    /// <summary>Concrete shapes for graph inputs with symbolic dims (e.g. from InputShapes metadata).</summary>
    public IReadOnlyDictionary<string, int[]>? InputShapes { get; init; }
    /// <summary>Fold constants and remove dead code after inference.</summary>
    public bool Optimize { get; init; } = true;
    /// <summary>Keep QuantizeLinear/DequantizeLinear nodes when folding (pre-quantized models keep their scales).</summary>
    public bool PreserveQuantization { get; init; }
    /// <summary>Folding never materializes a tensor larger than this (elements).</summary>
    public long MaxFoldElements { get; init; } = 1 << 20;
}

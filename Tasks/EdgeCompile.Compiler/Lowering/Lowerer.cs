using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;

namespace EdgeCompile.Compiler.Lowering;

/// <summary>
/// IR (validated, shapes inferred, constants folded) → <see cref="CompiledModel"/>: graph-level fusions,
/// one lowering per operator (Lowering/Ops), aliasing of shape-only ops, weight packing and the arena plan.
/// </summary>
public static class Lowerer
{
    private static readonly Dictionary<string, IOpLowering> s_lowerings = Discover();

    private static Dictionary<string, IOpLowering> Discover()
    {
        var d = new Dictionary<string, IOpLowering>(StringComparer.Ordinal);
        foreach (var t in typeof(IOpLowering).Assembly.GetTypes())
        {
            if (t.IsAbstract || t.IsInterface || !typeof(IOpLowering).IsAssignableFrom(t)) continue;
            var l = (IOpLowering)Activator.CreateInstance(t)!;
            foreach (var op in l.OpTypes) d.Add(op, l);
        }
        return d;
    }

    /// <summary>Op types that compile to kernels (for docs and tests).</summary>
    public static IReadOnlyCollection<string> SupportedOps => s_lowerings.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Lowers a prepared model. <paramref name="maxTensorElements"/>: every tensor the generated code touches (inputs,
    /// outputs, intermediates, weights) must have at most this many elements (EDGE1004); the arena and the weight blob
    /// must stay under 2 GiB.
    /// </summary>
    public static CompiledModel Lower(Model model, string className, string @namespace, long maxTensorElements = ReaderLimits.DefaultMaxTensorElements)
    {
        var g = model.Graph;
        Passes.FoldStaticShapes.Run(model);
        if (Passes.InferShapesBackward.Run(model) > 0) Passes.FoldStaticShapes.Run(model);
        Passes.FoldBatchNorm.Run(model);
        Passes.RemoveDeadCode.Run(model);
        var ctx = new LoweringContext(model);
        var layers = new List<LayerReport>();
        long macsTotal = 0;
        foreach (var n in g.Nodes.ToList())
        {
            if (ctx.Fused.Contains(n)) continue;
            if (n.Domain.Length > 0 || !s_lowerings.TryGetValue(n.OpType, out var lowering))
                throw ctx.Unsupported(n, "is not lowered");
            int before = ctx.Calls.Count;
            try { HalfPrecision.Lower(ctx, n, lowering); }
            catch (EdgeException e) { throw e.WithNode(n.DisplayName, n.OpType); }
            long macs = Macs(ctx, n);
            macsTotal += macs;
            long parameters = n.Inputs.Where(i => i.Length > 0 && ctx.Constant(i) is not null && !IsShapeInput(n, i)).Sum(i => (long)ctx.Constant(i)!.Length);
            layers.Add(Layer(ctx, n, before, parameters, macs, "float32"));
        }
        return Assemble(model, ctx, className, @namespace, layers, macsTotal, maxTensorElements: maxTensorElements);
    }

    /// <summary>The float lowering of one op type, if there is one (the int8 lowering falls back to it).</summary>
    internal static IOpLowering? FloatLowering(string opType) => s_lowerings.GetValueOrDefault(opType);

    /// <summary>
    /// Everything after the per-node lowering: Run parameters, output copies, weights blob, arena plan and buffers.
    /// Shared by the float and the int8 lowering (Lowering/Int8).
    /// </summary>
    internal static CompiledModel Assemble(Model model, LoweringContext ctx, string className, string @namespace, List<LayerReport> layers, long macsTotal, Func<IR.Constant, long>? parameterCount = null,
        long maxTensorElements = ReaderLimits.DefaultMaxTensorElements)
    {
        var g = model.Graph;

        // Run parameters. Initializers listed as inputs (IR < 4 files) are constants, not parameters.
        var inputs = g.Inputs.Where(i => !g.Initializers.Contains(i.Name)).Select((v, idx) => Param(v, idx, model)).ToList();
        var outputs = g.Outputs.Select((v, idx) => Param(v, idx, model)).ToList();
        // Parameter names must be distinct and must not shadow the generated code's locals.
        var used = new HashSet<string>(["arena"], StringComparer.Ordinal);
        foreach (var list in new[] { inputs, outputs })
            for (int i = 0; i < list.Count; i++)
            {
                string name = list[i].Name;
                for (int k = 2; !used.Add(name); k++) name = list[i].Name.TrimStart('@') + k.ToString(System.Globalization.CultureInfo.InvariantCulture);
                list[i] = list[i] with { Name = name };
            }
        var inputIndex = inputs.ToDictionary(p => p.OnnxName, p => p.Index, StringComparer.Ordinal);
        var outputIndex = new Dictionary<string, int>(StringComparer.Ordinal);

        string Root(string v)
        {
            for (int hops = 0; ctx.Aliases.TryGetValue(v, out var target); hops++)
            {
                if (hops > 10000) throw new InvalidOperationException("alias cycle");
                v = target;
            }
            return v;
        }

        // An output whose buffer would be an input, a constant or another output's gets its own copy.
        var claimedRoots = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in outputs)
        {
            string root = Root(o.OnnxName);
            bool needsCopy = inputIndex.ContainsKey(root) || g.Initializers.Contains(root) || !claimedRoots.Add(root);
            if (needsCopy)
            {
                ctx.Aliases.Remove(o.OnnxName);
                if (root == o.OnnxName)
                {
                    // The output *is* a constant (e.g. a folded Constant node) or an input: the copy's source needs a
                    // name of its own, or it would resolve to the output buffer (a copy onto itself).
                    if (g.Initializers.TryGet(root, out var constant))
                        root = ctx.AddConstant(root, constant.Value);
                    else
                        throw new EdgeException(EdgeCodes.UnsupportedSignature, $"'{o.OnnxName}' is both a model input and a model output; give the output its own name (an Identity node).");
                }
                ctx.Calls.Add(new KernelCall("Data.Copy", [LoweringContext.Read(root), LoweringContext.Write(o.OnnxName)], o.OnnxName, "Copy"));
                claimedRoots.Add(o.OnnxName);
            }
            outputIndex[Root(o.OnnxName)] = o.Index;
        }

        // A constant with no elements is an empty span, not a weight (a blob of only empty tensors is no blob at all).
        for (int ci = 0; ci < ctx.Calls.Count; ci++)
        {
            var c = ctx.Calls[ci];
            if (!c.Args.Any(a => a is CallArg.Value { Write: false } v && IsEmptyConstant(v.Name))) continue;
            ctx.Calls[ci] = c with
            {
                Args = c.Args.Select(a => a is CallArg.Value { Write: false } v && IsEmptyConstant(v.Name) ? new CallArg.Empty(ctx.TypeOf(Root(v.Name))) : a).ToArray(),
            };
        }
        bool IsEmptyConstant(string v)
        {
            string root = Root(v);
            return !inputIndex.ContainsKey(root) && !outputIndex.ContainsKey(root) && g.Initializers.TryGet(root, out var c) && c.ElementCount == 0;
        }

        // Classify roots and collect arena lifetimes and weights in first-use order.
        var weights = new MemoryStream();
        var weightOffsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int ci = 0; ci < ctx.Calls.Count; ci++)
        {
            foreach (var arg in ctx.Calls[ci].Args)
            {
                if (arg is not CallArg.Value v) continue;
                string root = Root(v.Name);
                if (inputIndex.ContainsKey(root) || outputIndex.ContainsKey(root)) continue;
                if (g.Initializers.TryGet(root, out var c))
                {
                    if (v.Write) throw new InvalidOperationException($"kernel writes constant '{root}'");
                    if (!weightOffsets.ContainsKey(root))
                    {
                        long at = ArenaPlanner.Align(weights.Length);
                        weights.SetLength(at);
                        weights.Position = at;
                        weightOffsets[root] = at;
                        Count(ctx, root, maxTensorElements);
                        if (at + c.ElementCount * (long)ElementSize(c.DataType) > int.MaxValue)
                            throw new EdgeException(EdgeCodes.LimitExceeded, $"The weights would exceed the 2 GiB a generated class can embed (at constant '{root}').");
                        var raw = c.TryGetRawBytes(out var bytes) ? bytes.ToArray() : TensorDecoder.ToRaw(c.Value);
                        weights.Write(raw);
                    }
                    continue;
                }
                if (!first.ContainsKey(root)) first[root] = ci;
                last[root] = ci;
            }
        }
        var intervals = first.Keys.Select(r => new ArenaPlanner.Interval(r, Count(ctx, r, maxTensorElements) * (long)ElementSize(ctx.TypeOf(r)), first[r], last[r])).ToList();
        var (arenaOffsets, arenaBytes) = ArenaPlanner.Plan(intervals);
        // The generated code slices the arena and the weights with int offsets.
        if (arenaBytes > int.MaxValue)
            throw new EdgeException(EdgeCodes.LimitExceeded, $"The activation arena would need {arenaBytes} bytes, over the 2 GiB a generated class can address.");

        BufferRef Buffer(string name)
        {
            string root = Root(name);
            var type = ctx.TypeOf(root);
            int count = Count(ctx, root, maxTensorElements);
            if (inputIndex.TryGetValue(root, out var ii)) return new BufferRef.Input(ii, type, count);
            if (outputIndex.TryGetValue(root, out var oi)) return new BufferRef.Output(oi, type, count);
            if (weightOffsets.TryGetValue(root, out var wo)) return new BufferRef.Weight(wo, type, count);
            return new BufferRef.Arena(arenaOffsets[root], type, count);
        }

        var calls = ctx.Calls.Select(c => (c, c.Args.Select(a => a is CallArg.Value v ? Buffer(v.Name) : null).ToArray())).ToList();
        foreach (var (c, bufs) in calls)
            for (int i = 0; i < bufs.Length; i++)
                if (bufs[i] is BufferRef.Input && c.Args[i] is CallArg.Value { Write: true })
                    throw new InvalidOperationException($"{c.Method} would write the model input");

        return new CompiledModel
        {
            ClassName = className,
            Namespace = @namespace,
            Model = model,
            Inputs = inputs,
            Outputs = outputs,
            Calls = calls,
            Weights = weights.ToArray(),
            ArenaBytes = arenaBytes,
            Parameters = g.Initializers.Where(c => weightOffsets.ContainsKey(c.Name)).Sum(c => parameterCount?.Invoke(c) ?? c.ElementCount),
            Macs = macsTotal,
            Layers = layers,
        };
    }

    private static bool IsShapeInput(Node n, string input) =>
        n.OpType is "Reshape" or "Slice" or "Expand" or "Tile" or "Pad" or "Squeeze" or "Unsqueeze" or "Split" or "ReduceSum" or "ReduceMean" or "ReduceMax" or "ReduceMin" or "Resize"
        && n.Inputs.IndexOf(input) > 0;

    private static int Count(LoweringContext ctx, string value, long maxTensorElements)
    {
        long n = Shapes.Product(ctx.Graph.TypeOf(value)?.StaticShape ?? throw new EdgeException(EdgeCodes.DynamicShape, $"Value '{value}' has no static shape."));
        if (n > Math.Min(maxTensorElements, int.MaxValue))
            throw new EdgeException(EdgeCodes.LimitExceeded, $"Tensor '{value}' has {n} elements, over the limit of {Math.Min(maxTensorElements, int.MaxValue)} (--max-tensor-elements / EdgeCompileMaxTensorElements).");
        return (int)n;
    }

    private static int ElementSize(DataType t) => t == DataType.Bool ? 1 : t.ElementSize();

    private static Parameter Param(ValueInfo v, int index, Model model)
    {
        var t = model.Graph.TypeOf(v.Name) ?? v.Type ?? throw new EdgeException(EdgeCodes.DynamicShape, $"The type of '{v.Name}' is unknown.");
        if (t.StaticShape is null)
            throw new EdgeException(EdgeCodes.DynamicShape, $"'{v.Name}' has shape {t}, which is not static. Give concrete sizes with the InputShapes metadata (e.g. InputShapes=\"{v.Name}:1x3x224x224\").");
        if (!Ops.CastLowering.IsPlanType(t.ElemType))
            throw new EdgeException(EdgeCodes.UnsupportedSignature, $"'{v.Name}' is {t.ElemType.OnnxName()}; Run parameters support float, double, float16, bfloat16, int64, int32, int16, int8, uint64, uint32, uint16, uint8 and bool.");
        return new Parameter(index, Identifiers.CamelCase(v.Name), v.Name, t.ElemType, t.StaticShape);
    }

    public static string ClrName(DataType t) => t switch
    {
        DataType.Float => "float", DataType.Double => "double", DataType.Int64 => "long", DataType.Int32 => "int",
        DataType.Int16 => "short", DataType.Int8 => "sbyte", DataType.UInt8 => "byte", DataType.UInt16 => "ushort", DataType.Bool => "bool",
        DataType.UInt32 => "uint", DataType.UInt64 => "ulong", DataType.Float16 => "global::System.Half", DataType.BFloat16 => "global::EdgeCompile.Kernels.BFloat16",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    public static string PlanType(DataType t) => t switch
    {
        DataType.Float => "f32", DataType.Double => "f64", DataType.Int64 => "i64", DataType.Int32 => "i32",
        DataType.Int16 => "i16", DataType.Int8 => "i8", DataType.UInt8 => "u8", DataType.UInt16 => "u16", DataType.Bool => "bool",
        DataType.UInt32 => "u32", DataType.UInt64 => "u64", DataType.Float16 => "f16", DataType.BFloat16 => "bf16",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>The report row of node <paramref name="n"/>, whose calls start at <paramref name="callsBefore"/> in the plan.</summary>
    internal static LayerReport Layer(LoweringContext ctx, Node n, int callsBefore, long parameters, long macs, string precision)
    {
        var g = ctx.Graph;
        var outs = n.Outputs.Where(o => o.Length > 0 && g.TypeOf(o) is not null).Select(o => g.TypeOf(o)!.ToString());
        var ins = n.Inputs.Where(i => i.Length > 0).Select(i => g.TypeOf(i)?.ToString() ?? "?");
        var kernels = ctx.Calls.Skip(callsBefore).Select(c => c.Method).Distinct();
        return new LayerReport(n.DisplayName, n.OpType, string.Join(" ", ins), string.Join(" ", outs), parameters, macs, precision,
            ctx.Calls.Count == callsBefore ? "(alias: no code)" : string.Join(", ", kernels));
    }

    internal static long Macs(LoweringContext ctx, Node n)
    {
        var g = ctx.Graph;
        int[]? S(string v) => v.Length > 0 ? g.TypeOf(v)?.StaticShape : null;
        switch (n.OpType)
        {
            case "Conv":
                {
                    var y = S(n.Outputs[0]); var w = S(n.Inputs[1]);
                    if (y is null || w is null) return 0;
                    return Shapes.Product(y) * Shapes.Product(w.AsSpan(1));
                }
            case "Gemm":
                {
                    var y = S(n.Outputs[0]); var a = S(n.Inputs[0]);
                    if (y is null || a is null) return 0;
                    int k = n.GetAttribute("transA")?.I == 1 ? a[0] : a[^1];
                    return Shapes.Product(y) * k;
                }
            case "MatMul":
                {
                    var y = S(n.Outputs[0]); var a = S(n.Inputs[0]);
                    if (y is null || a is null) return 0;
                    return Shapes.Product(y) * a[^1];
                }
            default: return 0;
        }
    }
}

/// <summary>Turns ONNX names into C# identifiers.</summary>
public static class Identifiers
{
    private static readonly HashSet<string> s_keywords = new(StringComparer.Ordinal)
    {
        "abstract","as","base","bool","break","byte","case","catch","char","checked","class","const","continue","decimal","default","delegate","do","double","else",
        "enum","event","explicit","extern","false","finally","fixed","float","for","foreach","goto","if","implicit","in","int","interface","internal","is","lock",
        "long","namespace","new","null","object","operator","out","override","params","private","protected","public","readonly","ref","return","sbyte","sealed",
        "short","sizeof","stackalloc","static","string","struct","switch","this","throw","true","try","typeof","uint","ulong","unchecked","unsafe","ushort","using",
        "virtual","void","volatile","while",
    };

    /// <summary>camelCase identifier from an ONNX name: words split at non-alphanumerics, leading digit prefixed.</summary>
    public static string CamelCase(string name) => Make(name, upperFirst: false);

    /// <summary>PascalCase identifier (class names from file names).</summary>
    public static string PascalCase(string name) => Make(name, upperFirst: true);

    private static string Make(string name, bool upperFirst)
    {
        var words = new List<string>();
        var sb = new System.Text.StringBuilder();
        foreach (var ch in name)
        {
            if (char.IsLetterOrDigit(ch) && ch < 128) sb.Append(ch);
            else if (sb.Length > 0) { words.Add(sb.ToString()); sb.Clear(); }
        }
        if (sb.Length > 0) words.Add(sb.ToString());
        if (words.Count == 0) words.Add("value");
        var result = new System.Text.StringBuilder();
        for (int i = 0; i < words.Count; i++)
        {
            var w = words[i];
            bool upper = i > 0 || upperFirst;
            result.Append(upper ? char.ToUpperInvariant(w[0]) : char.ToLowerInvariant(w[0]));
            result.Append(w, 1, w.Length - 1);
        }
        var s = result.ToString();
        if (char.IsDigit(s[0])) s = (upperFirst ? "M" : "v") + s;
        return s_keywords.Contains(s) ? "@" + s : s;
    }

    public static bool IsValid(string id) =>
        id.Length > 0 && (char.IsLetter(id[0]) || id[0] == '_') && id.All(c => char.IsLetterOrDigit(c) || c == '_') && !s_keywords.Contains(id);
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Quantization;
using ValueType = EdgeCompile.Compiler.IR.ValueType;
using Attribute = EdgeCompile.Compiler.IR.Attribute;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>
/// <c>edgec measure-device</c>: measures a <see cref="DeviceProfile"/> on the build machine by running the plans the compiler
/// itself produces — a Conv 3x3 32→32 on 16x16 followed by a depthwise 3x3, and a Gemm 512→512 → 16 at batch 1 — lowered all
/// int8, all float32 and Int8WeightOnly, through <see cref="PlanInterpreter"/> (the kernels the generated class calls), timing
/// every call between the interpreter's per-call callbacks; median over <c>repeats</c> passes. Costs are nanoseconds per MAC
/// (per element for Quantize/Dequantize and the weight dequantization). The numbers are this machine's, under its current load,
/// with today's kernels: re-measure after kernel changes.
/// </summary>
public static class DeviceMeasurement
{
    public static DeviceProfile Measure(string name, int repeats = 7, Action<string>? log = null)
    {
        var costs = new Dictionary<string, double>(StringComparer.Ordinal);
        double quantize = 0, dequantize = 0, dequantizeWeight = 0;

        var conv = ConvModel();
        var (cq, cf, cw) = Plans(conv, ["conv", "dw"]);
        var t3 = Time([cq, cf, cw], repeats); var (tq, tf, tw) = (t3[0], t3[1], t3[2]);
        long convMacs = 32L * 32 * 9 * 16 * 16, dwMacs = 32L * 9 * 16 * 16;
        costs["Conv.int8"] = tq[("conv", "QConv.Conv2D")] / convMacs;
        costs["DepthwiseConv.int8"] = (tq.GetValueOrDefault(("dw", "QConv.DepthwiseConv3x3")) + tq.GetValueOrDefault(("dw", "QConv.Conv2D"))) / dwMacs;
        costs["Conv.float32"] = tf[("conv", "Conv.Conv2D")] / convMacs;
        costs["DepthwiseConv.float32"] = tf[("dw", "Conv.Conv2D")] / dwMacs;
        costs["Conv.int8weights"] = tw[("conv", "Conv.Conv2D")] / convMacs;
        costs["DepthwiseConv.int8weights"] = tw[("dw", "Conv.Conv2D")] / dwMacs;
        quantize = tq[("x", "QLinear.Quantize")] / (32.0 * 16 * 16);
        dequantize = tq.Where(kv => kv.Key.Method == "QLinear.Dequantize").Sum(kv => kv.Value) / (32.0 * 16 * 16);
        dequantizeWeight = (tw[("conv", "QLinear.DequantizeChannels")] + tw[("dw", "QLinear.DequantizeChannels")]) / (32.0 * 32 * 9 + 32 * 9);

        var gemm = GemmModel();
        var (gq, gf, gw) = Plans(gemm, ["fc1", "fc2"]);
        var u3 = Time([gq, gf, gw], repeats); var (uq, uf, uw) = (u3[0], u3[1], u3[2]);
        long gemmMacs = 512L * 512 + 512L * 16;
        double Sum(Dictionary<(string Node, string Method), double> t, string method) => t.Where(kv => kv.Key.Method == method && kv.Key.Node is "fc1" or "fc2").Sum(kv => kv.Value);
        costs["Gemm.int8"] = Sum(uq, "QGemm.Run") / gemmMacs;
        costs["Gemm.float32"] = Sum(uf, "Gemm.Run") / gemmMacs;
        costs["Gemm.int8weights"] = Sum(uw, "Gemm.Run") / gemmMacs;
        costs["MatMul.int8"] = costs["Gemm.int8"];
        costs["MatMul.float32"] = costs["Gemm.float32"];
        costs["MatMul.int8weights"] = costs["Gemm.int8weights"];
        costs["*.float32"] = costs["Conv.float32"];
        costs["*.int8"] = costs["Conv.int8"];
        costs["*.int8weights"] = costs["Conv.int8weights"];

        var inv = CultureInfo.InvariantCulture;
        string cpu = RuntimeInformation.ProcessArchitecture.ToString();
        string isa = RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? $"AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, AVX-512BW {System.Runtime.Intrinsics.X86.Avx512BW.IsSupported}"
            : $"AdvSimd {System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported}, Dp {System.Runtime.Intrinsics.Arm.Dp.IsSupported}";
        string source = string.Create(inv, $"Measured by `edgec measure-device --repeats {repeats}` (EdgeCompile {ArtifactWriter.CompilerVersion}) on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {cpu}, {Environment.ProcessorCount} logical cores, {isa}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}. Median of {repeats} passes per kernel call of compiler-lowered plans run by the build-time plan interpreter: Conv 3x3 32->32 and depthwise 3x3 on 16x16, Gemm 512->512->16 at batch 1; single thread; the machine's load at that time included. Kernels change: re-measure after updating EdgeCompile.");
        foreach (var (k, v) in costs.OrderBy(kv => kv.Key, StringComparer.Ordinal)) log?.Invoke(string.Create(inv, $"edgec: {k}: {v:F4} ns per MAC"));
        log?.Invoke(string.Create(inv, $"edgec: quantize {quantize:F3}, dequantize {dequantize:F3}, weight dequantize {dequantizeWeight:F3} ns per element"));
        return new DeviceProfile
        {
            Name = name, Source = source, Unit = "ns", MacCost = costs,
            Architecture = RuntimeInformation.ProcessArchitecture switch { Architecture.X64 => "x64", Architecture.Arm64 => "arm64", _ => null },
            DotProduct = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? System.Runtime.Intrinsics.Arm.Dp.IsSupported
                : RuntimeInformation.ProcessArchitecture == Architecture.X64 ? false : null,
            QuantizeCostPerElement = quantize, DequantizeCostPerElement = dequantize, DequantizeWeightCostPerElement = dequantizeWeight,
        };
    }

    private static (CompiledModel Int8, CompiledModel Float, CompiledModel WeightOnly) Plans(Model model, string[] layers)
    {
        Passes.InferShapes.Run(model);
        var rng = new Random(7);
        var input = model.Graph.Inputs[0];
        var shape = input.Type!.StaticShape!;
        int per = (int)Shapes.Product(shape);
        var x = new float[16 * per];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var data = CalibrationData.FromArrays([new(input.Name, Tensor.FromArray(x, [16, .. shape[1..]]))], model);
        var q = PostTrainingQuantizer.Quantize(model, data, new QuantizationOptions { Mode = QuantizationMode.Int8, Equalization = false, BiasCorrection = false, MaxDegreeOfParallelism = 1 });
        var set = layers.ToHashSet(StringComparer.Ordinal);
        return (Int8Lowerer.Lower(Pruning.Pruner.Snapshot(model), q, "M", "").Compiled,
                Int8Lowerer.Lower(Pruning.Pruner.Snapshot(model), q, "M", "", set).Compiled,
                Int8Lowerer.Lower(Pruning.Pruner.Snapshot(model), q, "M", "", null, set).Compiled);
    }

    /// <summary>
    /// Median ns per run of each (node, method) of each plan, summed over that node's calls of the method. Every plan is first
    /// warmed up (at least 50 runs and 0.5 s, so tiered JIT has promoted the kernels), then the passes alternate between the
    /// plans, so they share the machine's conditions.
    /// </summary>
    private static Dictionary<(string Node, string Method), double>[] Time(CompiledModel[] plans, int repeats)
    {
        var rng = new Random(11);
        var runners = plans.Select(plan => (
            Plan: plan,
            Interp: new PlanInterpreter(plan),
            Inputs: plan.Inputs.Select(p => { var a = new float[Shapes.Product(p.Shape)]; for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return (Array)a; }).ToArray(),
            Outputs: plan.Outputs.Select(p => (Array)new float[Shapes.Product(p.Shape)]).ToArray(),
            Passes: new List<double[]>())).ToArray();
        foreach (var r in runners)
        {
            var sw = Stopwatch.StartNew();
            for (int w = 0; w < 50 || sw.ElapsedMilliseconds < 500; w++) r.Interp.Run(r.Inputs, r.Outputs);
        }
        const int runs = 20;
        for (int p = 0; p < Math.Max(1, repeats); p++)
            foreach (var r in runners)
            {
                var acc = new double[r.Plan.Calls.Count];
                for (int k = 0; k < runs; k++)
                {
                    long last = Stopwatch.GetTimestamp();
                    r.Interp.Run(r.Inputs, r.Outputs, ci =>
                    {
                        long now = Stopwatch.GetTimestamp();
                        acc[ci] += now - last;
                        last = Stopwatch.GetTimestamp();
                    });
                }
                r.Passes.Add(acc.Select(t => t * 1e9 / Stopwatch.Frequency / runs).ToArray());
            }
        return runners.Select(r =>
        {
            var result = new Dictionary<(string, string), double>();
            for (int ci = 0; ci < r.Plan.Calls.Count; ci++)
            {
                var call = r.Plan.Calls[ci].Call;
                var sorted = r.Passes.Select(pp => pp[ci]).OrderBy(v => v).ToList();
                var key = (call.NodeName, call.Method);
                result[key] = result.GetValueOrDefault(key) + sorted[sorted.Count / 2];
            }
            return result;
        }).ToArray();
    }

    private static Model ConvModel()
    {
        var rng = new Random(3);
        float[] W(int n, double std) { var w = new float[n]; for (int i = 0; i < n; i++) w[i] = (float)((rng.NextDouble() * 2 - 1) * std); return w; }
        var g = new Graph { Name = "measure-conv" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, 32, 16, 16])));
        g.Initializers.Add(new Constant("w1", Tensor.FromArray(W(32 * 32 * 9, 0.1), 32, 32, 3, 3)));
        g.Initializers.Add(new Constant("b1", Tensor.FromArray(W(32, 0.1), 32)));
        g.Initializers.Add(new Constant("w2", Tensor.FromArray(W(32 * 9, 0.3), 32, 1, 3, 3)));
        g.Initializers.Add(new Constant("b2", Tensor.FromArray(W(32, 0.1), 32)));
        Attribute Ints(string n, params long[] v) => new() { Name = n, Kind = AttributeKind.Ints, Ints = v };
        g.Nodes.Add(new Node { Name = "conv", OpType = "Conv", Inputs = ["x", "w1", "b1"], Outputs = ["c1"], Attributes = [Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3)] });
        g.Nodes.Add(new Node { Name = "relu1", OpType = "Relu", Inputs = ["c1"], Outputs = ["r1"] });
        g.Nodes.Add(new Node { Name = "dw", OpType = "Conv", Inputs = ["r1", "w2", "b2"], Outputs = ["y"], Attributes = [Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3), new() { Name = "group", Kind = AttributeKind.Int, I = 32 }] });
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, 32, 16, 16])));
        var m = new Model { Graph = g, IrVersion = 8, ProducerName = "edgec measure-device" };
        m.Opsets[""] = 17;
        return m;
    }

    private static Model GemmModel()
    {
        var rng = new Random(5);
        float[] W(int n, double std) { var w = new float[n]; for (int i = 0; i < n; i++) w[i] = (float)((rng.NextDouble() * 2 - 1) * std); return w; }
        var g = new Graph { Name = "measure-gemm" };
        g.Inputs.Add(new ValueInfo("x", ValueType.FromShape(DataType.Float, [1, 512])));
        g.Initializers.Add(new Constant("w1", Tensor.FromArray(W(512 * 512, 0.05), 512, 512)));
        g.Initializers.Add(new Constant("b1", Tensor.FromArray(W(512, 0.1), 512)));
        g.Initializers.Add(new Constant("w2", Tensor.FromArray(W(16 * 512, 0.05), 16, 512)));
        g.Initializers.Add(new Constant("b2", Tensor.FromArray(W(16, 0.1), 16)));
        Attribute TransB() => new() { Name = "transB", Kind = AttributeKind.Int, I = 1 };
        g.Nodes.Add(new Node { Name = "fc1", OpType = "Gemm", Inputs = ["x", "w1", "b1"], Outputs = ["h"], Attributes = [TransB()] });
        g.Nodes.Add(new Node { Name = "relu", OpType = "Relu", Inputs = ["h"], Outputs = ["a"] });
        g.Nodes.Add(new Node { Name = "fc2", OpType = "Gemm", Inputs = ["a", "w2", "b2"], Outputs = ["y"], Attributes = [TransB()] });
        g.Outputs.Add(new ValueInfo("y", ValueType.FromShape(DataType.Float, [1, 16])));
        var m = new Model { Graph = g, IrVersion = 8, ProducerName = "edgec measure-device" };
        m.Opsets[""] = 17;
        return m;
    }
}

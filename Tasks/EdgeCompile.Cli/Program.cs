using System.Diagnostics;
using System.Globalization;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Onnx;

// edgec compile --model <file.onnx> --out-dir <dir> [--class-name Name] [--namespace Ns] [--input-shapes "in:1x3x224x224;..."] [--source-display path]
//               [--max-file-bytes N] [--max-nodes N] [--max-tensor-elements N] [--max-depth N]   (resource limits, docs/security.md)
//               [--quantization Int8 --calibration-data x.npy [--calibration-method Percentile] [--validation-data x.npy --validation-labels y.npy] [--max-accuracy-drop P]]
//               [--quantization Int8Dynamic|Int8WeightOnly [--validation-data x.npy [--validation-labels y.npy]] [--max-accuracy-drop P]] [--export-quantized-onnx true]
//               [--quantization Auto --calibration-data x.npy [--validation-data x.npy --validation-labels y.npy] [--max-accuracy-drop P] [--max-search-seconds S] [--layer-precision "name:Float;name:Int8"]]
//               [--equalization true|false] [--bias-correction true|false] [--accuracy-budget-mode Error|Warn] [--target-device x64-avx2|profile.json] [--runtime-identifier linux-arm64]
//               [--threads N]   (1..64: the large convolutions and float GEMMs are split over N threads in one Run)
//               [--pruning "Channels:0.3;Magnitude:0.5" [--pruning-layers "conv1:0.5"] [--pruning-exclude "fc"] [--pruning-steps N] [--pruning-criterion Activation] [--pruning-recovery None]]
//
// edgec measure-device --out profile.json [--name N] [--repeats R]   (times this machine's kernels: a device profile for EdgeTargetDevice)
//
// Diagnostics are printed in MSBuild's canonical format ("file: error EDGE1234: message"), which MSBuild's
// Exec task turns into coded build errors. Exit code 0 = success, 1 = a diagnostic was reported, 2 = bad usage.
namespace EdgeCompile.Cli
{
    public static class Edgec
    {
        public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

        public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
        {
            if (args.Length == 0 || args[0] is "-h" or "--help") { Usage(stdout); return args.Length == 0 ? 2 : 0; }
            if (args[0] == "--version") { stdout.WriteLine(ArtifactWriter.CompilerVersion); return 0; }
            if (args[0] == "measure-device") return MeasureDevice(args, stdout, stderr);
            if (args[0] != "compile") { stderr.WriteLine($"edgec: unknown command '{args[0]}'"); Usage(stderr); return 2; }

            var opts = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                {
                    stderr.WriteLine($"edgec: expected '--option value', got '{args[i]}'");
                    return 2;
                }
                opts[args[i][2..]] = args[++i];
            }
            if (!opts.TryGetValue("model", out var modelPath) || !opts.TryGetValue("out-dir", out var outDir))
            {
                stderr.WriteLine("edgec: --model and --out-dir are required");
                return 2;
            }
            string display = opts.GetValueOrDefault("source-display", modelPath);
            try
            {
                var sw = Stopwatch.StartNew();
                var limits = ReaderLimits.Default;
                int maxNodes = new FrontEndOptions().MaxNodes;
                if (Limit(opts, "max-file-bytes") is long mfb) limits = limits with { MaxFileBytes = mfb };
                if (Limit(opts, "max-depth") is long md) limits = limits with { MaxDepth = (int)Math.Min(md, int.MaxValue) };
                if (Limit(opts, "max-tensor-elements") is long mte) limits = limits with { MaxTensorElements = mte };
                if (Limit(opts, "max-nodes") is long mn) maxNodes = (int)Math.Min(mn, int.MaxValue);
                var result = Compilation.Compile(new CompileRequest
                {
                    ModelPath = modelPath,
                    OutDir = outDir,
                    ClassName = opts.GetValueOrDefault("class-name", ""),
                    Namespace = opts.GetValueOrDefault("namespace", ""),
                    InputShapes = opts.GetValueOrDefault("input-shapes", ""),
                    SourceDisplay = display,
                    PlanName = opts.GetValueOrDefault("plan-name") is { Length: > 0 } pn ? pn : null,
                    ResourceName = opts.GetValueOrDefault("resource-name") is { Length: > 0 } rn ? rn : null,
                    Limits = limits,
                    MaxNodes = maxNodes,
                    Quantization = opts.GetValueOrDefault("quantization", ""),
                    CalibrationData = opts.GetValueOrDefault("calibration-data", ""),
                    CalibrationMethod = opts.GetValueOrDefault("calibration-method", ""),
                    ValidationData = opts.GetValueOrDefault("validation-data", ""),
                    ValidationLabels = opts.GetValueOrDefault("validation-labels", ""),
                    MaxAccuracyDrop = opts.GetValueOrDefault("max-accuracy-drop", ""),
                    ExportQuantizedOnnx = Flag(opts, "export-quantized-onnx"),
                    Pruning = opts.GetValueOrDefault("pruning", ""),
                    PruningLayers = opts.GetValueOrDefault("pruning-layers", ""),
                    PruningExclude = opts.GetValueOrDefault("pruning-exclude", ""),
                    PruningSteps = opts.GetValueOrDefault("pruning-steps", ""),
                    PruningCriterion = opts.GetValueOrDefault("pruning-criterion", ""),
                    PruningRecovery = opts.GetValueOrDefault("pruning-recovery", ""),
                    LayerPrecision = opts.GetValueOrDefault("layer-precision", ""),
                    MaxSearchSeconds = opts.GetValueOrDefault("max-search-seconds", ""),
                    Equalization = opts.GetValueOrDefault("equalization", ""),
                    BiasCorrection = opts.GetValueOrDefault("bias-correction", ""),
                    AccuracyBudgetMode = opts.GetValueOrDefault("accuracy-budget-mode", ""),
                    TargetDevice = opts.GetValueOrDefault("target-device", ""),
                    RuntimeIdentifier = opts.GetValueOrDefault("runtime-identifier", ""),
                    Threads = opts.GetValueOrDefault("threads", ""),
                    Log = stdout.WriteLine,
                });
                var compiled = result.Model;
                string ns = compiled.Namespace, className = compiled.ClassName;
                var inv = CultureInfo.InvariantCulture;
                stdout.WriteLine(string.Create(inv,
                    $"edgec: {display} -> {(ns.Length > 0 ? ns + "." : "")}{className}: {compiled.Layers.Count} layers, {compiled.Parameters} parameters, {compiled.Weights.Length} weight bytes, {compiled.ArenaBytes} arena bytes, {compiled.Macs} MACs ({sw.ElapsedMilliseconds} ms)"));
                stdout.WriteLine($"edgec: report: {Path.GetFullPath(result.Paths.ReportMarkdown)}");
                return 0;
            }
            catch (EdgeException e)
            {
                var located = e.File is null || e.File == modelPath ? e.WithFileOverride(display) : e;
                stdout.WriteLine(located.ToString());
                return 1;
            }
            catch (Exception e)
            {
                // Our bug, not the user's: still a coded, located message; the stack goes to stderr for the bug report.
                stdout.WriteLine($"{display}: error {EdgeCodes.InternalError}: internal compiler error ({e.GetType().Name}: {e.Message}). Please report it with the model if you can.");
                stderr.WriteLine(e);
                return 1;
            }
        }

        /// <summary>
        /// <c>edgec measure-device --out profile.json [--name N] [--repeats R]</c>: times the kernels the plans call on this machine
        /// (<see cref="Compiler.Lowering.Int8.DeviceMeasurement"/>) and writes a device profile for EdgeTargetDevice.
        /// </summary>
        private static int MeasureDevice(string[] args, TextWriter stdout, TextWriter stderr)
        {
            var opts = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) { stderr.WriteLine($"edgec: expected '--option value', got '{args[i]}'"); return 2; }
                opts[args[i][2..]] = args[++i];
            }
            if (!opts.TryGetValue("out", out var outPath)) { stderr.WriteLine("edgec: measure-device needs --out <file.json>"); return 2; }
            try
            {
                int repeats = Limit(opts, "repeats") is long r ? (int)Math.Min(r, 1000) : 7;
                var profile = Compiler.Lowering.Int8.DeviceMeasurement.Measure(opts.GetValueOrDefault("name", "measured"), repeats, stdout.WriteLine);
                File.WriteAllText(outPath, profile.ToJson());
                stdout.WriteLine($"edgec: device profile: {Path.GetFullPath(outPath)}");
                return 0;
            }
            catch (EdgeException e) { stdout.WriteLine(e.ToString()); return 1; }
        }

        /// <summary>A limit switch: a positive integer; empty (MSBuild passes unset properties as "") means the default.</summary>
        private static long? Limit(Dictionary<string, string> opts, string name)
        {
            if (!opts.TryGetValue(name, out var text) || text.Length == 0) return null;
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v <= 0)
                throw new EdgeException(EdgeCodes.InvalidMetadata, $"--{name} '{text}' is not a positive integer.");
            return v;
        }

        /// <summary>A true/false switch; empty (an unset MSBuild property) means false.</summary>
        private static bool Flag(Dictionary<string, string> opts, string name)
        {
            if (!opts.TryGetValue(name, out var text) || text.Length == 0) return false;
            return bool.TryParse(text, out bool v) ? v
                : throw new EdgeException(EdgeCodes.InvalidMetadata, $"--{name} '{text}' is not 'true' or 'false'.");
        }

        private static void Usage(TextWriter w) => w.WriteLine(
            "usage: edgec compile --model <file.onnx> --out-dir <dir> [--class-name Name] [--namespace Ns] [--input-shapes \"in:1x3x224x224;...\"] [--source-display path] [--plan-name stem] [--resource-name name]\n" +
            "                     [--max-file-bytes N] [--max-nodes N] [--max-tensor-elements N] [--max-depth N]\n" +
            "                     [--quantization Int8 --calibration-data x.npy [--calibration-method M] [--validation-data x.npy --validation-labels y.npy] [--max-accuracy-drop P]]\n" +
            "                     [--quantization Auto --calibration-data x.npy [--validation-data ..] [--max-accuracy-drop P] [--max-search-seconds S] [--layer-precision \"name:Float;name:Int8\"]]\n" +
            "                     [--pruning \"Channels:0.3;Magnitude:0.5\" [--pruning-layers \"name:rate;...\"] [--pruning-exclude \"name;...\"] [--pruning-steps N] [--pruning-criterion L1|L2|Activation] [--pruning-recovery LeastSquares|None]]\n" +
            "                     [--equalization true|false] [--bias-correction true|false] [--accuracy-budget-mode Error|Warn] [--target-device name|profile.json] [--runtime-identifier rid]\n" +
            "                     [--threads N]\n" +
            "       edgec measure-device --out profile.json [--name N] [--repeats R]\n" +
            "       edgec --version");
    }
}

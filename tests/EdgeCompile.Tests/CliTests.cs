using System.Diagnostics;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests;

/// <summary>edgec as the build runs it: coded, located diagnostics and the artifacts it writes.</summary>
public class CliTests
{
    // edgec runs as a process, exactly as the build runs it.
    private static (int Exit, string Out) Edgec(params string[] args)
    {
        var r = Support.Edgec.Run(args);
        return (r.ExitCode, r.All);
    }

    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "edgec-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private static string Digits => Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model", "digits.onnx");

    [Fact]
    public void QuantizationAutoTakesLayerPrecisionAndMaxSearchSeconds()
    {
        var dir = TempDir();
        string calib = Path.Combine(Path.GetDirectoryName(Digits)!, "digits_calib_x.npy");
        var (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--quantization", "Auto", "--calibration-data", calib,
            "--max-accuracy-drop", "0", "--max-search-seconds", "120", "--layer-precision", "/features/features.3/Conv:Float");
        Assert.True(exit == 0, output);
        Assert.Contains("Quantization Auto:", output);
        Assert.Contains("/features/features.3/Conv", File.ReadAllText(Path.Combine(dir, "Digits.report.md")));
        Assert.Contains("LayerPrecision override: float32", File.ReadAllText(Path.Combine(dir, "Digits.report.md")));

        (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--quantization", "Auto", "--calibration-data", calib,
            "--layer-precision", "nosuchlayer:Float");
        Assert.NotEqual(0, exit);
        Assert.Contains("error EDGE4010", output);
    }

    [Fact]
    public void QuantizationAutoTakesBudgetModeTargetDeviceAndPreparationSwitches()
    {
        var dir = TempDir();
        string calib = Path.Combine(Path.GetDirectoryName(Digits)!, "digits_calib_x.npy");
        // A 0-second budget: EDGE4013 by default, a warning and a float32 build with Warn.
        var (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--quantization", "Auto", "--calibration-data", calib,
            "--max-search-seconds", "0", "--target-device", "arm64-dotprod", "--equalization", "false", "--bias-correction", "false");
        Assert.NotEqual(0, exit);
        Assert.Contains("error EDGE4013", output);
        (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--quantization", "Auto", "--calibration-data", calib,
            "--max-search-seconds", "0", "--target-device", "arm64-dotprod", "--accuracy-budget-mode", "Warn");
        Assert.True(exit == 0, output);
        Assert.Contains("warning EDGE4013", output);
        string report = File.ReadAllText(Path.Combine(dir, "Digits.report.md"));
        Assert.Contains("latency profile `arm64-dotprod`", report);
        Assert.Contains("Graph preparation: cross-layer equalization of 3 layer pair(s)", report);

        (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--quantization", "Auto", "--calibration-data", calib, "--runtime-identifier", "linux-arm64", "--target-device", "cortex-z99");
        Assert.NotEqual(0, exit);
        Assert.Contains("error EDGE4015", output);
        (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--quantization", "Int8", "--calibration-data", calib, "--equalization", "maybe");
        Assert.NotEqual(0, exit);
        Assert.Contains("error EDGE4005", output);
    }

    [Fact]
    public void MeasureDeviceWritesAProfileTheCompilerReads()
    {
        var dir = TempDir();
        string profile = Path.Combine(dir, "here.json");
        var (exit, output) = Edgec("measure-device", "--out", profile, "--name", "here", "--repeats", "1");
        Assert.True(exit == 0, output);
        var p = Compiler.Lowering.Int8.DeviceProfile.Resolve(profile, null);
        Assert.Equal("here", p.Name);
        Assert.Equal("ns", p.Unit);
        Assert.True(p.MacCost["Conv.int8"] > 0 && p.MacCost["Gemm.float32"] > 0);
        Assert.Equal(2, Edgec("measure-device").Exit);   // --out is required
        string calib = Path.Combine(Path.GetDirectoryName(Digits)!, "digits_calib_x.npy");
        (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--quantization", "Auto", "--calibration-data", calib, "--target-device", profile);
        Assert.True(exit == 0, output);
        Assert.Contains("latency profile `here` (ns)", File.ReadAllText(Path.Combine(dir, "Digits.report.md")));
    }

    [Fact]
    public void CompilesTheSampleAndPrintsTheReportPath()
    {
        var dir = TempDir();
        var (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir, "--class-name", "Digits", "--namespace", "A.B");
        Assert.True(exit == 0, output);
        Assert.Contains("edgec: report: ", output);
        foreach (var f in new[] { "Digits.edgeplan", "Digits.weights.bin", "Digits.report.md", "Digits.report.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void SymbolicInputWithoutShapesAsksForInputShapes()
    {
        var b = new GraphBuilder();
        var x = b.SymbolicInput("x", DataType.Float, "batch", "4");
        var y = b.Node1("Relu", x);
        b.Output(y, DataType.Float);
        var dir = TempDir();
        var path = Path.Combine(dir, "sym.onnx");
        OnnxWriter.WriteFile(b.Build(), path);
        var (exit, output) = Edgec("compile", "--model", path, "--out-dir", dir);
        Assert.Equal(1, exit);
        Assert.Contains("error EDGE2102", output);
        Assert.Contains("InputShapes", output);
        // With the shape given, it compiles.
        (exit, output) = Edgec("compile", "--model", path, "--out-dir", dir, "--input-shapes", "x:2x4");
        Assert.True(exit == 0, output);
        Assert.Contains("input 0 x f32 2x4", File.ReadAllText(Path.Combine(dir, "Sym.edgeplan")));
    }

    [Fact]
    public void ReadOnlyOutputFolderIsACodedErrorAndLeavesNothingBehind()
    {
        if (Environment.UserName == "root" || OperatingSystem.IsWindows())
        {
            // root ignores directory permissions; a path under a regular file can never be created instead.
            var blocker = Path.Combine(TempDir(), "file");
            File.WriteAllText(blocker, "");
            var (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", Path.Combine(blocker, "out"));
            Assert.Equal(1, exit);
            Assert.Contains("error EDGE2002", output);
            return;
        }
        if (OperatingSystem.IsWindows()) return;
        var dir = TempDir();
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var (exit, output) = Edgec("compile", "--model", Digits, "--out-dir", dir);
            Assert.Equal(1, exit);
            Assert.Contains("error EDGE2002", output);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally { File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
    }

    [Fact]
    public void DiagnosticsNameTheSourceAsTheProjectWroteIt()
    {
        var (exit, output) = Edgec("compile", "--model", Path.Combine(TestPaths.TestDir, "Corpus", "bad", "unsupported_op.onnx"), "--out-dir", TempDir(), "--source-display", "models/x.onnx");
        Assert.Equal(1, exit);
        Assert.StartsWith("models/x.onnx: error EDGE1301: node ", output);
    }

    [Fact]
    public void ALargeModelBuildsInSecondsAndItsPlanStaysSmall()
    {
        // 8 layers of 1024x1024 MatMul+Add: 8.4M parameters, 33 MB of weights.
        var b = new GraphBuilder();
        string v = b.Input("x", DataType.Float, 1, 1024);
        var rng = new Random(3);
        for (int i = 0; i < 8; i++)
        {
            var w = new float[1024 * 1024];
            for (int k = 0; k < w.Length; k++) w[k] = (float)(rng.NextDouble() - 0.5) * 0.05f;
            var bias = new float[1024];
            string wn = b.Initializer($"w{i}", Tensor.FromArray(w, 1024, 1024));
            string bn = b.Initializer($"b{i}", Tensor.FromArray(bias, 1024));
            v = b.Node1("Relu", b.Node1("Add", b.Node1("MatMul", v, wn), bn));
        }
        b.Output(v, DataType.Float, [1, 1024]);
        var dir = TempDir();
        var path = Path.Combine(dir, "big.onnx");
        OnnxWriter.WriteFile(b.Build(), path);
        var sw = Stopwatch.StartNew();
        var (exit, output) = Edgec("compile", "--model", path, "--out-dir", dir);
        sw.Stop();
        Assert.True(exit == 0, output);
        var plan = new FileInfo(Path.Combine(dir, "Big.edgeplan")).Length;
        var weights = new FileInfo(Path.Combine(dir, "Big.weights.bin")).Length;
        Assert.True(plan < 8 * 1024, $"plan is {plan} bytes");             // weights never become source text
        Assert.True(weights >= 8L * 1024 * 1024 * 4, $"weights {weights}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"compile took {sw.Elapsed}"); // generous bound: a guard against pathologies, not a benchmark
    }
}

using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeCompile.Integration.Tests;

/// <summary>
/// What a new user does: reference the packed EdgeCompile package from a fresh console project, add an
/// &lt;EdgeModel&gt;, build, run; then publish with NativeAOT. Outputs are checked against ONNX Runtime.
/// </summary>
public sealed class NewUserTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    private static readonly string DigitsModel = Path.Combine(Dotnet.RepoRoot, "Samples", "DigitRecognizer", "model", "digits.onnx");
    private const int Samples = 4;

    // Deterministic inputs both sides can compute: the consumer prints its logits for each.
    private const string Program = """
        using System.Globalization;
        var classifier = new MyApp.Vision.DigitClassifier();
        var input = new float[MyApp.Vision.DigitClassifier.ImageLength];
        var logits = new float[MyApp.Vision.DigitClassifier.LogitsLength];
        for (int s = 0; s < 4; s++)
        {
            for (int i = 0; i < input.Length; i++) input[i] = ((i * 7 + s * 13) % 17) / 16f;
            classifier.Run(input, logits);
            System.Console.WriteLine("logits " + string.Join(" ", System.Linq.Enumerable.Select(logits, v => v.ToString("R", CultureInfo.InvariantCulture))));
        }
        long before = System.GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 100; r++) classifier.Run(input, logits);
        System.Console.WriteLine("allocated " + (System.GC.GetAllocatedBytesForCurrentThread() - before));
        """;

    private const string Item = """<EdgeModel Include="models/digits.onnx" ClassName="DigitClassifier" Namespace="MyApp.Vision" />""";

    private static float[] Input(int s)
    {
        var x = new float[64];
        for (int i = 0; i < x.Length; i++) x[i] = ((i * 7 + s * 13) % 17) / 16f;
        return x;
    }

    private static List<float[]> Expected()
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(DigitsModel, options);
        var result = new List<float[]>();
        for (int s = 0; s < Samples; s++)
        {
            var t = new DenseTensor<float>(Input(s), [1, 1, 8, 8]);
            using var outputs = session.Run([NamedOnnxValue.CreateFromTensor("image", t)]);
            result.Add(outputs.First().AsEnumerable<float>().ToArray());
        }
        return result;
    }

    private static void AssertMatchesOrt(string output)
    {
        var lines = output.Split('\n').Where(l => l.StartsWith("logits ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Samples, lines.Count);
        var expected = Expected();
        for (int s = 0; s < Samples; s++)
        {
            var got = lines[s].Trim().Split(' ').Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected[s].Length, got.Length);
            for (int k = 0; k < got.Length; k++)
                Assert.True(Math.Abs(got[k] - expected[s][k]) <= 1e-4 * Math.Abs(expected[s][k]) + 1e-5,
                    $"sample {s} logit {k}: EdgeCompile {got[k]}, ONNX Runtime {expected[s][k]}");
        }
        Assert.Contains("allocated 0", output);
    }

    [Fact]
    public void PackBuildRunMatchesOnnxRuntimeAndSecondBuildDoesNoWork()
    {
        // A second model keeps its weight in an external-data file: that file is an input of the compile too.
        const string external = """<EdgeModel Include="models/ext.onnx" ClassName="ExternalMatMul" Namespace="MyApp.Data" />""";
        var dir = package.CreateConsumer("NewUser", Item + external, Program, (DigitsModel, "models/digits.onnx"));
        var weights = Enumerable.Range(0, 12).Select(i => i / 4f - 1.5f).ToArray();
        EdgeCompile.Tests.Shared.HandMadeOnnx.WriteExternalDataModel(Path.Combine(dir, "models", "ext.onnx"), "ext.weights", 4, 3, weights);
        Dotnet.Cli(dir, "build -c Release").Ok("first build");
        var run = Dotnet.Cli(dir, "run -c Release --no-build").Ok("run");
        AssertMatchesOrt(run.Output);

        // Nothing changed: the compile target must be skipped (honest Inputs/Outputs).
        var second = Dotnet.Cli(dir, "build -c Release -v:detailed").Ok("second build");
        Assert.Contains("Skipping target \"_EdgeCompile_Compile\" because all output files are up-to-date", second.Output);
        Assert.DoesNotContain("edgec: ", second.Output);

        // Only the external-data file changed: that model recompiles (edgec listed the file it read), the other does not.
        weights[5] = 42f;
        EdgeCompile.Tests.Shared.HandMadeOnnx.WriteExternalDataModel(Path.Combine(dir, "models", "ext.onnx"), "ext.weights", 4, 3, weights);
        File.SetLastWriteTimeUtc(Path.Combine(dir, "models", "ext.onnx"), DateTime.UtcNow.AddHours(-1));
        var afterData = Dotnet.Cli(dir, "build -c Release -v:n").Ok("build after an external-data change");
        Assert.True(afterData.Output.Contains("edgec: models/ext.onnx -> MyApp.Data.ExternalMatMul", StringComparison.Ordinal), afterData.Output);
        Assert.DoesNotContain("-> MyApp.Vision.DigitClassifier", afterData.Output);

        // Changed metadata recompiles.
        var csproj = Path.Combine(dir, "NewUser.csproj");
        File.WriteAllText(csproj, File.ReadAllText(csproj).Replace("Namespace=\"MyApp.Vision\"", "Namespace=\"MyApp.Vision\" InputShapes=\"image:1x1x8x8\""));
        var third = Dotnet.Cli(dir, "build -c Release -v:n").Ok("build after a metadata change");
        Assert.Contains("edgec: ", third.Output);

        // dotnet clean removes the compiled artifacts.
        var obj = Path.Combine(dir, "obj", "Release", "net10.0", "EdgeCompile");
        Assert.NotEmpty(Directory.GetFiles(obj, "*.edgeplan", SearchOption.AllDirectories));
        Dotnet.Cli(dir, "clean -c Release").Ok("clean");
        Assert.Empty(Directory.Exists(obj) ? Directory.GetFiles(obj, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public void NativeAotPublishHasNoWarningsAndRuns()
    {
        var dir = package.CreateConsumer("AotUser", Item, Program, (DigitsModel, "models/digits.onnx"));
        var publish = Dotnet.Cli(dir, "publish -c Release -r linux-x64 -p:PublishAot=true -o aot").Ok("NativeAOT publish");
        Assert.DoesNotMatch(@"warning (IL|CS|EDGE)\d+", publish.Output);
        var exe = Path.Combine(dir, "aot", "AotUser");
        Assert.True(File.Exists(exe), "the native executable was not produced:\n" + publish.Output);
        var run = Dotnet.Run(dir, exe, "").Ok("native run");
        AssertMatchesOrt(run.Output);

        // A declared device: its profile gives ILC the instruction set (x64-avx2 → x86-64-v3), so the native code is
        // compiled for that device's kernel paths only; the results stay those of ONNX Runtime.
        var device = Dotnet.Cli(dir, "publish -c Release -r linux-x64 -p:PublishAot=true -p:EdgeTargetDevice=x64-avx2 -o aot-avx2").Ok("NativeAOT publish for x64-avx2");
        Assert.Contains("NativeAOT instruction set 'x86-64-v3' from device profile 'x64-avx2'", device.Output);
        Assert.DoesNotMatch(@"warning (IL|CS|EDGE)\d+", device.Output);
        var rsp = Directory.GetFiles(Path.Combine(dir, "obj"), "AotUser.ilc.rsp", SearchOption.AllDirectories).Single();
        Assert.Contains("--instruction-set:x86-64-v3", File.ReadAllLines(rsp));
        AssertMatchesOrt(Dotnet.Run(dir, Path.Combine(dir, "aot-avx2", "AotUser"), "").Ok("native run for x64-avx2").Output);

        // A device of another architecture than the RuntimeIdentifier's is a coded error naming the model.
        var wrong = Dotnet.Cli(dir, "build -c Release -r linux-x64 -p:EdgeTargetDevice=arm64-dotprod");
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("EDGE4016", wrong.Output);
        Assert.Contains("digits.onnx", wrong.Output);
    }

    [Theory]
    [InlineData("missing", """<EdgeModel Include="models/nope.onnx" />""", "EDGE1001")]
    [InlineData("badclass", """<EdgeModel Include="models/digits.onnx" ClassName="1Bad" />""", "EDGE2001")]
    [InlineData("badshape", """<EdgeModel Include="models/digits.onnx" InputShapes="image:1xQx8x8" />""", "EDGE2001")]
    [InlineData("unknowninput", """<EdgeModel Include="models/digits.onnx" InputShapes="pixels:1x1x8x8" />""", "EDGE2001")]
    [InlineData("twice", """<EdgeModel Include="models/digits.onnx" /><EdgeModel Include="models/digits.onnx" />""", "EDGE2003")]
    [InlineData("clash", """<EdgeModel Include="models/digits.onnx" ClassName="Same" /><EdgeModel Include="models/digits2.onnx" ClassName="Same" />""", "EDGE2001")]
    [InlineData("quant", """<EdgeModel Include="models/digits.onnx" Quantization="Int4" />""", "EDGE2001")]
    public void BadItemsAreCodedErrorsNamingTheModel(string name, string item, string code)
    {
        var dir = package.CreateConsumer("Bad" + name, item, "System.Console.WriteLine();", (DigitsModel, "models/digits.onnx"), (DigitsModel, "models/digits2.onnx"));
        var build = Dotnet.Cli(dir, "build -c Release");
        Assert.NotEqual(0, build.ExitCode);
        Assert.Matches($@"models/(digits2?|nope)\.onnx.*error {code}", build.Output);
        Assert.DoesNotContain("MSB4018", build.Output); // "task failed unexpectedly"
        Assert.DoesNotContain("   at ", build.Output); // no stack traces
        // Nothing half-written is left for the next build to trust.
        var obj = Path.Combine(dir, "obj", "Release", "net10.0", "EdgeCompile");
        if (Directory.Exists(obj)) Assert.Empty(Directory.GetFiles(obj, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void UnsupportedOperatorIsACodedErrorWithTheNode()
    {
        // A model the reference executor runs but no kernel covers yet (Hardmax on double data; every operator the
        // front end takes has some lowering, so the unsupported thing is a use of one).
        var graph = new EdgeCompile.Compiler.IR.Graph { Name = "g" };
        graph.Inputs.Add(new EdgeCompile.Compiler.IR.ValueInfo("x", EdgeCompile.Compiler.IR.ValueType.FromShape(EdgeCompile.Compiler.DataType.Double, [2, 4])));
        graph.Outputs.Add(new EdgeCompile.Compiler.IR.ValueInfo("y", EdgeCompile.Compiler.IR.ValueType.FromShape(EdgeCompile.Compiler.DataType.Double, [2, 4])));
        graph.Nodes.Add(new EdgeCompile.Compiler.IR.Node { Name = "onehotmax", OpType = "Hardmax", Inputs = ["x"], Outputs = ["y"] });
        var model = new EdgeCompile.Compiler.IR.Model { Graph = graph, IrVersion = 8 };
        model.Opsets[""] = 17;
        var path = Path.Combine(Path.GetTempPath(), "edge-hardmax-" + Guid.NewGuid().ToString("N")[..6] + ".onnx");
        EdgeCompile.Compiler.Onnx.OnnxWriter.WriteFile(model, path);
        try
        {
            var dir = package.CreateConsumer("Unsupported", """<EdgeModel Include="models/hm.onnx" />""", "System.Console.WriteLine();", (path, "models/hm.onnx"));
            var build = Dotnet.Cli(dir, "build -c Release");
            Assert.NotEqual(0, build.ExitCode);
            Assert.Matches(@"models/hm\.onnx.*error EDGE2101: node 'onehotmax' \(Hardmax\)", build.Output);
        }
        finally { File.Delete(path); }
    }
}

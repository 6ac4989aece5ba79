using System.Diagnostics;
using System.Text;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Lowering;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Tests.Shared;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests;

/// <summary>
/// Resource limits, reproducible artifacts, concurrent and interrupted compiles (docs/security.md).
/// The process-level tests run the built edgec.dll exactly as the build does.
/// </summary>
public sealed class RobustnessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-robust-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private string Model(string name, int k = 4, int n = 3, int seed = 1)
    {
        string path = Path.Combine(_dir, name);
        Edgec.WriteMatMulModel(path, k, n, seed);
        return path;
    }

    // ---------------------------------------------------------------- limits

    [Fact]
    public void Initializer_over_the_tensor_element_limit_is_EDGE1004_before_decoding()
    {
        string model = Model("m.onnx", k: 4, n: 3); // W has 12 elements
        var e = Assert.Throws<EdgeException>(() => FrontEnd.Load(model, new FrontEndOptions { Limits = new ReaderLimits { MaxTensorElements = 11 } }));
        Assert.Equal(EdgeCodes.LimitExceeded, e.Code);
        Assert.Contains("'W'", e.Message);
        using var ok = FrontEnd.Load(model, new FrontEndOptions { Limits = new ReaderLimits { MaxTensorElements = 12 } });
    }

    [Fact]
    public void Sparse_initializer_with_a_huge_declared_size_is_EDGE1004_without_allocating()
    {
        // dims [2^30] with one value: densifying would allocate 4 GiB. The limit is checked on the declared dims.
        var values = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Varint(1, 1), HandMadeOnnx.Pb.Varint(2, 1), HandMadeOnnx.Pb.Str(8, "S"), HandMadeOnnx.Pb.Bytes(9, new byte[4]));
        var indices = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Varint(1, 1), HandMadeOnnx.Pb.Varint(2, 7), HandMadeOnnx.Pb.Str(8, "S_i"), HandMadeOnnx.Pb.Bytes(9, new byte[8]));
        var sparse = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Bytes(1, values), HandMadeOnnx.Pb.Bytes(2, indices), HandMadeOnnx.Pb.Varint(3, 1L << 30));
        var node = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Str(1, "S"), HandMadeOnnx.Pb.Str(2, "y"), HandMadeOnnx.Pb.Str(4, "Identity"));
        var graph = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Bytes(1, node), HandMadeOnnx.Pb.Bytes(15, sparse), HandMadeOnnx.Pb.Bytes(12, HandMadeOnnx.Pb.Str(1, "y")));
        var bytes = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Varint(1, 8), HandMadeOnnx.Pb.Bytes(7, graph), HandMadeOnnx.Pb.Bytes(8, HandMadeOnnx.Pb.Varint(2, 17)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<EdgeException>(() => ModelFile.Parse(bytes));
        Assert.Equal(EdgeCodes.LimitExceeded, e.Code);
        Assert.Contains("densified", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the check must come before densifying");
    }

    [Fact]
    public void Intermediate_over_the_limit_is_EDGE1004_at_lowering()
    {
        var b = new GraphBuilder();
        var x = b.SymbolicInput("x", DataType.Float, "N", "1000");
        var y = b.Node1("Relu", x);
        b.Output(y, DataType.Float);
        string path = Path.Combine(_dir, "relu.onnx");
        OnnxWriter.WriteFile(b.Build(), path);

        // 10^5 x 1000 = 10^8 elements: under the default (2^28), over a limit of 10^6.
        var request = new CompileRequest { ModelPath = path, OutDir = Path.Combine(_dir, "out"), InputShapes = "x:100000x1000", Limits = new ReaderLimits { MaxTensorElements = 1_000_000 } };
        var e = Assert.Throws<EdgeException>(() => Compilation.Compile(request));
        Assert.Equal(EdgeCodes.LimitExceeded, e.Code);
        Assert.Contains("'x'", e.Message);

        // With the default limit, 2^31 x 2 elements is refused (coded error, not an internal OverflowException).
        e = Assert.Throws<EdgeException>(() => Compilation.Compile(request with { InputShapes = "x:2147483647x1000", Limits = ReaderLimits.Default }));
        Assert.Equal(EdgeCodes.LimitExceeded, e.Code);
    }

    [Fact]
    public void Cli_limit_switches_reach_the_compiler()
    {
        string model = Model("m.onnx");
        string outDir = Path.Combine(_dir, "out");
        var cases = new (string Switch, string Value, string Expect)[]
        {
            ("--max-file-bytes", "10", "over the limit of 10 bytes"),
            ("--max-nodes", "2", "over the limit of 2"),
            ("--max-tensor-elements", "5", "over the limit of 5"),
        };
        foreach (var (sw, value, expect) in cases)
        {
            var r = Edgec.Compile(model, outDir, sw, value);
            Assert.True(r.ExitCode == 1, $"{sw}: {r.All}");
            Assert.Contains("error EDGE1004", r.Stdout);
            Assert.Contains(expect, r.Stdout);
        }
        // --max-depth: a model whose subgraph nesting is deeper than 1 (If inside If).
        var deep = Path.Combine(_dir, "deep.onnx");
        File.WriteAllBytes(deep, NestedIfModel(3));
        var d = Edgec.Compile(deep, outDir, "--max-depth", "2");
        Assert.True(d.ExitCode == 1, d.All);
        Assert.Contains("error EDGE1003", d.Stdout);

        var bad = Edgec.Compile(model, outDir, "--max-nodes", "0");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("error EDGE2001", bad.Stdout);

        // Empty values (MSBuild passes unset properties as "") mean the defaults.
        var ok = Edgec.Compile(model, outDir, "--max-file-bytes", "", "--max-nodes", "", "--max-tensor-elements", "", "--max-depth", "");
        Assert.True(ok.ExitCode == 0, ok.All);
    }

    /// <summary>A graph whose node's attribute holds a graph whose node's attribute holds a graph ... <paramref name="levels"/> deep.</summary>
    private static byte[] NestedIfModel(int levels)
    {
        byte[] graph = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Str(2, "leaf"));
        for (int i = 0; i < levels; i++)
        {
            var attr = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Str(1, "then_branch"), HandMadeOnnx.Pb.Bytes(6, graph), HandMadeOnnx.Pb.Varint(20, 5));
            var node = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Str(1, "c"), HandMadeOnnx.Pb.Str(2, "y" + i), HandMadeOnnx.Pb.Str(4, "If"), HandMadeOnnx.Pb.Bytes(5, attr));
            graph = HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Bytes(1, node), HandMadeOnnx.Pb.Str(2, "g" + i));
        }
        return HandMadeOnnx.Pb.Cat(HandMadeOnnx.Pb.Varint(1, 8), HandMadeOnnx.Pb.Bytes(7, graph), HandMadeOnnx.Pb.Bytes(8, HandMadeOnnx.Pb.Varint(2, 17)));
    }

    // ---------------------------------------------------------------- numerical robustness

    [Fact]
    public void Nan_and_inf_weights_compile_and_keep_their_bits()
    {
        // W holds NaN, +inf, -inf; W + W is folded at compile time (NaN + NaN, inf + inf, -inf + -inf), and a NaN
        // LeakyRelu alpha reaches the plan as the NaN token.
        float[] w = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1f, -0f, float.Epsilon];
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, 2);
        var wn = b.Initializer("W", new Tensor(DataType.Float, [2, 3], w));
        var w2 = b.Node1("Add", wn, wn);
        var mm = b.Node1("MatMul", x, w2);
        var y = b.Node("LeakyRelu", [mm], 1, GraphBuilder.Float("alpha", float.NaN))[0];
        b.Output(y, DataType.Float, [1, 3]);
        string path = Path.Combine(_dir, "nan.onnx");
        OnnxWriter.WriteFile(b.Build(), path);

        var result = Compilation.Compile(new CompileRequest { ModelPath = path, OutDir = Path.Combine(_dir, "out") });
        var weights = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(result.Model.Weights.AsSpan(0, 24)).ToArray();
        Assert.True(float.IsNaN(weights[0]));
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity, 2f, -0f, 2 * float.Epsilon], weights[1..]);
        Assert.True(BitConverter.SingleToInt32Bits(weights[4]) < 0, "-0 + -0 is -0");
        Assert.Contains("f:NaN", File.ReadAllText(result.Paths.Plan));
    }

    // ---------------------------------------------------------------- generated-code safety

    [Fact]
    public void Names_with_unicode_line_breaks_cannot_inject_plan_lines_or_code()
    {
        // C# (and Roslyn's SourceText, which the generator parses plans with) ends a line at U+0085, U+2028 and
        // U+2029 too: a node or tensor name carrying one must not start a new plan line or end a // comment.
        string evil = "n\u2028call Data.Copy in:0 out:0\u2029}\u0085static void Pwn() {}\r\n//";
        var b = new GraphBuilder();
        var x = b.Input("x" + evil, DataType.Float, 1, 4);
        var y = b.Node1("Relu", x);
        var model = b.Build();
        model.Graph.Nodes[0].Name = evil;
        model.Graph.Outputs.Add(new ValueInfo(y, new Compiler.IR.ValueType(DataType.Float, [Dim.Known(1), Dim.Known(4)])));
        string path = Path.Combine(_dir, "evil.onnx");
        OnnxWriter.WriteFile(model, path);

        var result = Compilation.Compile(new CompileRequest { ModelPath = path, OutDir = Path.Combine(_dir, "out"), SourceDisplay = "evil" + evil });
        foreach (var file in new[] { result.Paths.Plan, result.Paths.ReportMarkdown })
        {
            string text = File.ReadAllText(file);
            Assert.False(text.Any(c => c is '\u0085' or '\u2028' or '\u2029' or '\r'), $"{Path.GetFileName(file)} has a line break from a name");
        }
        string[] keywords = ["edgeplan", "#", "meta", "namespace", "class", "resource", "arena", "input", "output", "doc", "node", "call", "end"];
        var lines = File.ReadAllText(result.Paths.Plan).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.Contains(l.Split(' ')[0], keywords));
        Assert.Single(lines, l => l.StartsWith("call ", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- reproducibility

    [Fact]
    public void Artifacts_are_byte_identical_across_core_counts_and_cultures()
    {
        string digits = Path.Combine(TestPaths.RepoRoot, "Samples", "DigitRecognizer", "model", "digits.onnx");
        string small = Model("small.onnx", k: 17, n: 9, seed: 5);
        string cultured = Edgec.CulturedRuntimeConfig(_dir);
        var variants = new (string Name, Dictionary<string, string?> Env, string? Config)[]
        {
            ("1 core, invariant", new() { ["DOTNET_PROCESSOR_COUNT"] = "1", ["LANG"] = "C", ["LC_ALL"] = "C" }, null),
            ("2 cores, sv-SE", new() { ["DOTNET_PROCESSOR_COUNT"] = "2", ["LANG"] = "sv_SE.UTF-8", ["LC_ALL"] = "sv_SE.UTF-8", ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "0" }, cultured),
            ("1 core, fa-IR", new() { ["DOTNET_PROCESSOR_COUNT"] = "1", ["LANG"] = "fa_IR.UTF-8", ["LC_ALL"] = "fa_IR.UTF-8", ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "0" }, cultured),
        };
        foreach (var model in new[] { digits, small })
        {
            SortedDictionary<string, byte[]>? first = null;
            foreach (var (name, env, config) in variants)
            {
                string outDir = Path.Combine(_dir, Path.GetFileNameWithoutExtension(model) + "-" + name.Replace(' ', '_').Replace(',', '_'));
                var r = Edgec.Run(["compile", "--model", model, "--out-dir", outDir, "--namespace", "Demo.Models", "--source-display", "models/" + Path.GetFileName(model)], env, config);
                Assert.True(r.ExitCode == 0, $"{name}: {r.All}");
                var files = Edgec.Artifacts(outDir);
                Assert.Equal(5, files.Count); // plan, weights, two reports, the list of other files read (.inputs)
                if (first is null) { first = files; continue; }
                Assert.Equal(first.Keys, files.Keys);
                foreach (var (file, bytes) in first)
                    Assert.True(bytes.AsSpan().SequenceEqual(files[file]), $"{file} differs under '{name}'");
            }
            // In process (this test host) gives the same bytes as the edgec processes.
            string inProc = Path.Combine(_dir, "inproc-" + Path.GetFileNameWithoutExtension(model));
            Compilation.Compile(new CompileRequest { ModelPath = model, OutDir = inProc, Namespace = "Demo.Models", SourceDisplay = "models/" + Path.GetFileName(model) });
            var again = Edgec.Artifacts(inProc);
            foreach (var (file, bytes) in first!)
                Assert.True(bytes.AsSpan().SequenceEqual(again[file]), $"{file} differs in process");
        }
    }

    [Fact]
    public void Model_hash_covers_the_model_its_external_data_and_the_options()
    {
        string modelDir = Path.Combine(_dir, "ext");
        Directory.CreateDirectory(modelDir);
        string model = Path.Combine(modelDir, "ext.onnx");
        var w = Enumerable.Range(0, 12).Select(i => i * 0.25f - 1f).ToArray();
        Edgec.WriteExternalDataModel(model, "ext.weights", 4, 3, w);

        string Hash(CompileRequest r) => Compilation.Compile(r).InputHash;
        var request = new CompileRequest { ModelPath = model, OutDir = Path.Combine(_dir, "out"), SourceDisplay = "ext.onnx" };
        using (var loaded = FrontEnd.Load(model))
            Assert.Equal([Path.Combine(modelDir, "ext.weights")], loaded.ExternalDataFiles);

        string h0 = Hash(request);
        Assert.Equal(h0, Hash(request));
        string plan = File.ReadAllText(Path.Combine(_dir, "out", "Ext.edgeplan"));
        Assert.Equal(h0, Edgec.Meta(plan, "model-hash"));

        // The same model and data in another folder: same hash (no absolute paths in it).
        string copyDir = Path.Combine(_dir, "copy");
        Directory.CreateDirectory(copyDir);
        File.Copy(model, Path.Combine(copyDir, "ext.onnx"));
        File.Copy(Path.Combine(modelDir, "ext.weights"), Path.Combine(copyDir, "ext.weights"));
        Assert.Equal(h0, Hash(request with { ModelPath = Path.Combine(copyDir, "ext.onnx") }));

        // Options change the hash.
        Assert.NotEqual(h0, Hash(request with { Namespace = "Other" }));
        Assert.NotEqual(h0, Hash(request with { ClassName = "Other" }));
        Assert.NotEqual(h0, Hash(request with { ResourceName = "Other.weights" }));

        // One changed byte of the external data changes the hash (the model file itself is untouched).
        w[5] = 42f;
        Edgec.WriteExternalDataModel(model, "ext.weights", 4, 3, w);
        Assert.NotEqual(h0, Hash(request));
    }

    // ---------------------------------------------------------------- concurrency and interruption

    /// <summary>A plan and the weights beside it belong together: the plan's weights-hash is the weights file's SHA-256.</summary>
    private static void AssertConsistentPair(string plan, string weights, string context)
    {
        string text = File.ReadAllText(plan, Encoding.UTF8);
        Assert.StartsWith("edgeplan 1\n", text);
        Assert.EndsWith("end\n", text);
        Assert.True(File.Exists(weights), $"{context}: a plan without weights");
        Assert.Equal(Edgec.Meta(text, "weights-hash"), Edgec.Sha256(File.ReadAllBytes(weights)));
    }

    [Fact]
    public void Two_concurrent_compiles_into_one_folder_both_succeed_and_leave_a_consistent_pair()
    {
        string a = Model("a.onnx", k: 512, n: 512, seed: 1);
        string b = Model("b.onnx", k: 512, n: 512, seed: 2);
        string outDir = Path.Combine(_dir, "shared");
        for (int round = 0; round < 3; round++)
        {
            // Same model twice, then two different models into the same plan name.
            var (m1, m2) = round == 0 ? (a, a) : (a, b);
            var procs = new[] { m1, m2 }.Select(m => Process.Start(Edgec.StartInfo(["compile", "--model", m, "--out-dir", outDir, "--plan-name", "model", "--class-name", "Model"]))!).ToArray();
            foreach (var p in procs)
            {
                string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
                Assert.True(p.WaitForExit(120_000));
                Assert.True(p.ExitCode == 0, output);
                p.Dispose();
            }
            AssertConsistentPair(Path.Combine(outDir, "model.edgeplan"), Path.Combine(outDir, "model.weights.bin"), $"round {round}");
            Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));
        }
    }

    [Fact]
    public void A_killed_compile_leaves_no_untrustworthy_plan_and_the_next_compile_recovers()
    {
        // Two models with different weights into one plan name: a plan paired with the other model's weights would show.
        string a = Model("a.onnx", k: 1024, n: 2048, seed: 1);   // 8 MiB of weights
        string b = Model("b.onnx", k: 1024, n: 2048, seed: 2);
        string outDir = Path.Combine(_dir, "killed");
        string plan = Path.Combine(outDir, "model.edgeplan"), weights = Path.Combine(outDir, "model.weights.bin");
        string[] Args(string m) => ["compile", "--model", m, "--out-dir", outDir, "--plan-name", "model", "--class-name", "Model"];

        // Kill at random points inside an undisturbed compile's duration. The duration is measured the way the
        // killed compiles are started, and every compile that finishes before its kill time refines it, so the
        // kill times follow this machine's speed whether it is quiet, loaded, or much faster than the first run.
        var durations = new List<double>();
        for (int i = 0; i < 2; i++)
        {
            var t = Stopwatch.StartNew();
            using var p = Process.Start(Edgec.StartInfo(Args(i == 0 ? a : b)))!;
            _ = p.StandardOutput.ReadToEndAsync();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
            durations.Add(t.Elapsed.TotalMilliseconds);
        }
        var rng = new Random(3);
        int killed = 0, attempts = 0;
        for (; killed < 6 && attempts < 60; attempts++)
        {
            double typical = durations.Order().ElementAt(durations.Count / 2);
            var t = Stopwatch.StartNew();
            using var p = Process.Start(Edgec.StartInfo(Args(attempts % 2 == 0 ? a : b)))!;
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (p.WaitForExit((int)(typical * (0.05 + 0.9 * rng.NextDouble()))))
            {
                // Finished before its kill time: a faster compile than assumed, which refines the estimate.
                Assert.Equal(0, p.ExitCode);
                durations.Add(t.Elapsed.TotalMilliseconds);
            }
            else
            {
                p.Kill(entireProcessTree: false);
                killed++;
                p.WaitForExit();
            }
            if (File.Exists(plan)) AssertConsistentPair(plan, weights, $"after attempt {attempts}");
        }
        Assert.True(killed >= 6, $"only {killed} of {attempts} compiles were still running when killed (durations: {string.Join(", ", durations.Select(d => $"{d:F0} ms"))})");
        // The next compile succeeds whatever was left behind and produces what an undisturbed compile produces.
        var r = Edgec.Run(Args(a));
        Assert.True(r.ExitCode == 0, r.All);
        AssertConsistentPair(plan, weights, "recovered");
        string clean = Path.Combine(_dir, "clean");
        Assert.Equal(0, Edgec.Run(["compile", "--model", a, "--out-dir", clean, "--plan-name", "model", "--class-name", "Model"]).ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(clean, "model.edgeplan")), File.ReadAllBytes(plan));
        Assert.Equal(File.ReadAllBytes(Path.Combine(clean, "model.weights.bin")), File.ReadAllBytes(weights));
    }

    [Fact]
    public void Stale_temporary_files_are_removed_and_fresh_ones_kept()
    {
        string model = Model("m.onnx");
        string outDir = Path.Combine(_dir, "stale");
        Directory.CreateDirectory(outDir);
        string stale = Path.Combine(outDir, "M.weights.bin.4242.0123456789abcdef0123456789abcdef.tmp");
        string fresh = Path.Combine(outDir, "M.edgeplan.4243.fedcba9876543210fedcba9876543210.tmp");
        string foreign = Path.Combine(outDir, "user-notes.tmp");
        foreach (var f in new[] { stale, fresh, foreign }) File.WriteAllText(f, "partial");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddMinutes(-30));
        File.SetLastWriteTimeUtc(foreign, DateTime.UtcNow.AddMinutes(-30));

        var r = Edgec.Compile(model, outDir);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.False(File.Exists(stale), "a temp file older than the cutoff is a killed compile's leftover");
        Assert.True(File.Exists(fresh), "a fresh temp file may belong to a running compile");
        Assert.True(File.Exists(foreign), "files not named like ours are never touched");
        AssertConsistentPair(Path.Combine(outDir, "M.edgeplan"), Path.Combine(outDir, "M.weights.bin"), "stale");
    }
}

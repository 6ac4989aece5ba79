using System.Diagnostics;
using System.Text;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Tests.Shared;

namespace EdgeCompile.Tests.Support;

/// <summary>Runs the built edgec.dll as a process (what the build does), and writes test models to disk.</summary>
public static class Edgec
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null, string? runtimeConfig = null)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (runtimeConfig is not null)
        {
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add("--runtimeconfig");
            psi.ArgumentList.Add(runtimeConfig);
        }
        psi.ArgumentList.Add(TestPaths.Edgec);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        return psi;
    }

    public static Result Run(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null, string? runtimeConfig = null)
    {
        using var p = Process.Start(StartInfo(args, env, runtimeConfig))!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); throw new TimeoutException("edgec did not finish in 2 minutes"); }
        return new Result(p.ExitCode, stdout, stderr.Result);
    }

    public static Result Compile(string model, string outDir, params string[] extra) =>
        Run(["compile", "--model", model, "--out-dir", outDir, .. extra]);

    /// <summary>A copy of edgec's runtimeconfig with invariant globalization off, so LANG/LC_ALL pick a real culture.</summary>
    public static string CulturedRuntimeConfig(string dir)
    {
        string source = Path.ChangeExtension(TestPaths.Edgec, ".runtimeconfig.json");
        string text = File.ReadAllText(source).Replace("\"System.Globalization.Invariant\": true", "\"System.Globalization.Invariant\": false", StringComparison.Ordinal);
        string path = Path.Combine(dir, "edgec.cultured.runtimeconfig.json");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>x[1,k] → MatMul W[k,n] → LeakyRelu(alpha) → Clip(-1e-5, 3.5) → y[1,n]; W seeded.</summary>
    public static void WriteMatMulModel(string path, int k, int n, int seed, float alpha = -1.5f)
    {
        var rng = new Random(seed);
        var w = new float[k * n];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        var b = new GraphBuilder();
        var x = b.Input("x", DataType.Float, 1, k);
        var wn = b.Initializer("W", new Tensor(DataType.Float, [k, n], w));
        var mm = b.Node1("MatMul", x, wn);
        var lr = b.Node("LeakyRelu", [mm], 1, GraphBuilder.Float("alpha", alpha))[0];
        var lo = b.Initializer("lo", new Tensor(DataType.Float, [], new[] { -1e-5f }));
        var hi = b.Initializer("hi", new Tensor(DataType.Float, [], new[] { 3.5f }));
        var y = b.Node1("Clip", lr, lo, hi);
        b.Output(y, DataType.Float, [1, n]);
        OnnxWriter.WriteFile(b.Build(), path);
    }

    /// <summary>
    /// A model whose weight W[k,n] lives in external file <paramref name="dataFile"/> (next to the model):
    /// x[1,k] → MatMul W → y[1,n]. Hand-encoded protobuf (field numbers from onnx.proto).
    /// </summary>
    public static void WriteExternalDataModel(string path, string dataFile, int k, int n, float[] w) =>
        HandMadeOnnx.WriteExternalDataModel(path, dataFile, k, n, w);

    /// <summary>All files of an output folder (except the lock file) with their bytes, by name.</summary>
    public static SortedDictionary<string, byte[]> Artifacts(string dir) =>
        new(Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != ".edgec.lock").ToDictionary(f => Path.GetFileName(f)!, File.ReadAllBytes), StringComparer.Ordinal);

    /// <summary>Value of a <c>meta key</c> line of a plan, or null.</summary>
    public static string? Meta(string plan, string key) =>
        plan.Split('\n').FirstOrDefault(l => l.StartsWith("meta " + key + " ", StringComparison.Ordinal))?[(6 + key.Length)..];

    public static string Sha256(byte[] bytes) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
}

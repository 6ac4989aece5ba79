using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeCompile.Compiler.Diagnostics;
// Artifacts must be byte-identical across runs, machines, core counts and cultures: every number below is
// formatted with the invariant culture, collections are iterated in a defined order, and nothing records time.

namespace EdgeCompile.Compiler.Lowering;

/// <summary>
/// Writes the compiled artifact (docs/edgeplan.md): &lt;Class&gt;.edgeplan, &lt;Class&gt;.weights.bin and the
/// reports. Every file is written to a temporary name in the same folder and renamed into place, plan last,
/// so an interrupted build never leaves a plan that points at half-written weights.
/// </summary>
public static class ArtifactWriter
{
    public const int PlanVersion = 1;
    public static string CompilerVersion => typeof(ArtifactWriter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public sealed record Paths(string Plan, string Weights, string ReportMarkdown, string ReportJson);

    /// <summary>Temporary files of this writer: <c>&lt;final name&gt;.&lt;pid&gt;.&lt;32 hex&gt;.tmp</c>.</summary>
    private static readonly System.Text.RegularExpressions.Regex s_tempName =
        new(@"\.[0-9]+\.[0-9a-f]{32}\.tmp$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Temporary files older than this are leftovers of a killed compile and are deleted.</summary>
    public static TimeSpan StaleTempAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Name of the lock file that serializes writers of one output folder.</summary>
    public const string LockFileName = ".edgec.lock";

    /// <summary>
    /// Writes the artifact. Writers of the same folder are serialized by an OS lock on <see cref="LockFileName"/>
    /// (released by the OS if the process dies), so a plan and its weights always come from the same run. Inside
    /// the lock: stale temporary files are removed, the old plan is deleted first (an interrupted write leaves no
    /// plan, never an old plan beside new weights), then weights, reports and, last, the plan are each written to a
    /// unique temporary name and renamed into place. The plan records the SHA-256 of the weights (<c>meta weights-hash</c>).
    /// </summary>
    /// <remarks><c>dependencies</c>: files the compile read besides the model and the item's data files (its external
    /// data, relative to the model's folder), written ';'-separated to <c>&lt;planStem&gt;.inputs</c>, which the build adds
    /// to the compile's Inputs.</remarks>
    public static Paths Write(CompiledModel m, string outDir, string sourceDisplay, string modelHash, string? planStem = null, IReadOnlyList<string>? dependencies = null)
    {
        planStem ??= m.ClassName;
        var paths = new Paths(
            Path.Combine(outDir, planStem + ".edgeplan"),
            Path.Combine(outDir, planStem + ".weights.bin"),
            Path.Combine(outDir, m.ClassName + ".report.md"),
            Path.Combine(outDir, m.ClassName + ".report.json"));
        try
        {
            Directory.CreateDirectory(outDir);
            using var folderLock = AcquireLock(outDir, TimeSpan.FromMinutes(2));
            DeleteStaleTemps(outDir, StaleTempAge);
            File.Delete(paths.Plan);
            Atomic(paths.Weights, m.StoredWeights);
            Atomic(paths.ReportMarkdown, Encoding.UTF8.GetBytes(ReportMarkdown(m, sourceDisplay)));
            Atomic(paths.ReportJson, Encoding.UTF8.GetBytes(ReportJson(m, sourceDisplay)));
            if (dependencies is not null)
                Atomic(Path.Combine(outDir, planStem + ".inputs"), Encoding.UTF8.GetBytes(string.Join(";", dependencies)));
            Atomic(paths.Plan, Encoding.UTF8.GetBytes(Plan(m, sourceDisplay, modelHash)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EdgeException(EdgeCodes.OutputNotWritable, $"Cannot write the compiled model to '{outDir}': {e.Message}");
        }
        return paths;
    }

    private static FileStream AcquireLock(string outDir, TimeSpan timeout)
    {
        string path = Path.Combine(outDir, LockFileName);
        var deadline = DateTime.UtcNow + timeout;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                // FileShare.None: an exclusive flock on Unix, a sharing lock on Windows; both die with the process.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(Math.Min(20 * (attempt + 1), 250));
            }
        }
    }

    /// <summary>Deletes this writer's temporary files in <paramref name="outDir"/> last written more than <paramref name="age"/> ago.</summary>
    public static int DeleteStaleTemps(string outDir, TimeSpan age)
    {
        int deleted = 0;
        if (!Directory.Exists(outDir)) return 0;
        var cutoff = DateTime.UtcNow - age;
        foreach (var f in Directory.EnumerateFiles(outDir, "*.tmp"))
        {
            if (!s_tempName.IsMatch(f)) continue;
            try
            {
                if (File.GetLastWriteTimeUtc(f) < cutoff) { File.Delete(f); deleted++; }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* someone else's problem; never fatal */ }
        }
        return deleted;
    }

    private static void Atomic(string path, byte[] bytes)
    {
        // Unique per process and per call: concurrent writers never share a temporary file.
        string tmp = string.Create(CultureInfo.InvariantCulture, $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static string Sha256(IEnumerable<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files)
        {
            using var s = File.OpenRead(f);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = s.Read(buffer)) > 0) sha.AppendData(buffer, 0, read);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    /// <summary>
    /// The input hash recorded as <c>meta model-hash</c>: SHA-256 over framed records of the model file's bytes, every
    /// external-data file it references (by path relative to the model's folder, '/'-separated, sorted ordinally) and
    /// the canonical options text. Independent of absolute paths, so it is the same on every machine.
    /// </summary>
    public static string InputHash(string modelPath, IReadOnlyList<string> externalFiles, string canonicalOptions, IReadOnlyList<string>? dataFiles = null)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Header(string text) => sha.AppendData(Encoding.UTF8.GetBytes(text));
        void FileBytes(string kind, string name, string file)
        {
            using var s = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            Header(string.Create(CultureInfo.InvariantCulture, $"{kind} {name} {s.Length}\n"));
            var buffer = new byte[1 << 16];
            int read;
            while ((read = s.Read(buffer)) > 0) sha.AppendData(buffer, 0, read);
            Header("\n");
        }
        Header("edgec-input 1\n");
        FileBytes("model", Path.GetFileName(modelPath), modelPath);
        string root = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        foreach (var f in externalFiles.Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Distinct().OrderBy(f => f, StringComparer.Ordinal))
            FileBytes("external", f, Path.Combine(root, f));
        // Calibration/validation data shape the artifact too (int8 scales, reported accuracy): hashed by content, named by file name.
        foreach (var f in (dataFiles ?? []).Distinct(StringComparer.Ordinal))
            FileBytes("data", Path.GetFileName(f), f);
        var options = Encoding.UTF8.GetBytes(canonicalOptions);
        Header(string.Create(CultureInfo.InvariantCulture, $"options {options.Length}\n"));
        sha.AppendData(options);
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    public static string Plan(CompiledModel m, string sourceDisplay, string modelHash)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void Line(string s) => sb.Append(s).Append('\n');
        Line($"edgeplan {PlanVersion}");
        Line("# Generated by the EdgeCompile compiler: the source generator turns this into C#. Do not edit.");
        Line($"meta compiler {CompilerVersion}");
        Line($"meta source {OneLine(sourceDisplay)}");
        Line($"meta model-hash {modelHash}");
        Line($"meta weights-hash {Sha256(m.StoredWeights)}");
        Line($"meta producer {OneLine((m.Model.ProducerName + " " + m.Model.ProducerVersion).Trim())}");
        Line(string.Create(inv, $"meta opset {m.Model.OpsetFor("")}"));
        Line("meta precision float32");
        Line(string.Create(inv, $"meta parameters {m.Parameters}"));
        Line(string.Create(inv, $"meta weight-bytes {m.Weights.Length}"));
        if (m.WeightsCompressed) Line(string.Create(inv, $"meta stored-weight-bytes {m.StoredWeights.Length}"));
        Line(string.Create(inv, $"meta arena-bytes {m.ArenaBytes}"));
        Line(string.Create(inv, $"meta macs {m.Macs}"));
        Line(string.Create(inv, $"meta layers {m.Layers.Count}"));
        Line(m.Namespace.Length > 0 ? $"namespace {m.Namespace}" : "namespace");
        Line($"class {m.ClassName}");
        if (m.Weights.Length > 0) Line($"resource {m.ResourceName}");
        Line(string.Create(inv, $"arena {m.ArenaBytes}"));
        foreach (var p in m.Inputs)
        {
            Line(string.Create(inv, $"input {p.Index} {p.Name} {Lowerer.PlanType(p.Type)} {Dims(p.Shape)}"));
            Line($"doc {OneLine(p.OnnxName)} the model input '{OneLine(p.OnnxName)}'");
        }
        foreach (var p in m.Outputs)
        {
            Line(string.Create(inv, $"output {p.Index} {p.Name} {Lowerer.PlanType(p.Type)} {Dims(p.Shape)}"));
            Line($"doc {OneLine(p.OnnxName)} the model output '{OneLine(p.OnnxName)}'");
        }
        int index = 0;
        string? lastNode = null;
        foreach (var (call, buffers) in m.Calls)
        {
            if (call.NodeName != lastNode)
            {
                Line(string.Create(inv, $"node {index++} {call.OpType} {OneLine(call.NodeName)}"));
                lastNode = call.NodeName;
            }
            var args = call.Args.Select((a, i) => Arg(a, buffers[i]));
            Line($"call {call.Method} {string.Join(" ", args)}".TrimEnd());
        }
        Line("end");
        return sb.ToString();
    }

    private static string Dims(int[] shape) => shape.Length == 0 ? "-" : string.Join("x", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
    /// <summary>
    /// Model-controlled text (node, tensor, producer names) on one plan line. Every character C# or Roslyn's
    /// <c>SourceText</c> treats as a line break (\r, \n, U+0085, U+2028, U+2029) and every other control character
    /// becomes a space: otherwise a name could end its plan line (and, in the generated code, its <c>//</c> or
    /// <c>///</c> comment) and inject plan lines or code.
    /// </summary>
    public static string OneLine(string s)
    {
        if (!s.Any(IsBreakOrControl)) return s;
        return string.Create(s.Length, s, static (span, src) =>
        {
            for (int i = 0; i < src.Length; i++) span[i] = IsBreakOrControl(src[i]) ? ' ' : src[i];
        });
    }

    private static bool IsBreakOrControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    private static string Arg(CallArg a, BufferRef? b)
    {
        var inv = CultureInfo.InvariantCulture;
        return a switch
        {
            CallArg.Value => b switch
            {
                BufferRef.Input i => string.Create(inv, $"in:{i.Index}"),
                BufferRef.Output o => string.Create(inv, $"out:{o.Index}"),
                BufferRef.Arena r => string.Create(inv, $"a:{Lowerer.PlanType(r.Type)}:{r.ByteOffset}:{r.Count}"),
                BufferRef.Weight w => string.Create(inv, $"w:{Lowerer.PlanType(w.Type)}:{w.ByteOffset}:{w.Count}"),
                _ => throw new InvalidOperationException("value without a buffer"),
            },
            CallArg.Empty e => $"e:{Lowerer.PlanType(e.Type)}",
            CallArg.Int i => string.Create(inv, $"i:{i.V}"),
            CallArg.Long l => string.Create(inv, $"l:{l.V}"),
            CallArg.Float f => $"f:{CallArg.FloatToken(f.V)}",
            CallArg.Bool bo => bo.V ? "b:true" : "b:false",
            CallArg.Enum en => $"enum:{en.TypeAndMember}",
            CallArg.Ints ints => "ints:" + string.Join(",", ints.V.Select(v => v.ToString(inv))),
            _ => throw new InvalidOperationException(a.ToString()),
        };
    }

    public static string ReportMarkdown(CompiledModel m, string source)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"# {m.ClassName}\n\nCompiled from `{OneLine(source)}` by EdgeCompile {CompilerVersion}.\n\n");
        sb.Append("| # | Node | Op | Inputs | Output | Parameters | MACs | Precision | Kernel |\n|---:|---|---|---|---|---:|---:|---|---|\n");
        int i = 0;
        foreach (var l in m.Layers)
            sb.Append(inv, $"| {i++} | {Cell(l.Node)} | {l.OpType} | {Cell(l.InputShapes)} | {Cell(l.OutputShape)} | {l.Parameters} | {l.Macs} | {l.Precision} | {Cell(l.Kernel)} |\n");
        sb.Append(inv, $"\n**Totals:** {m.Layers.Count} layers, {m.Parameters} parameters, {m.Weights.Length} weight bytes");
        if (m.WeightsCompressed) sb.Append(inv, $" ({m.StoredWeights.Length} stored, compressed)");
        sb.Append(inv, $", {m.ArenaBytes} arena bytes, {m.Macs} MACs.\n");
        foreach (var section in m.Sections) sb.Append('\n').Append(section.Markdown);
        return sb.ToString();
    }

    private static string Cell(string s) => OneLine(s).Replace("|", "\\|", StringComparison.Ordinal);

    public static string ReportJson(CompiledModel m, string source)
    {
        var layers = m.Layers.Select(l => new Dictionary<string, object>
        {
            ["node"] = l.Node, ["op"] = l.OpType, ["inputs"] = l.InputShapes, ["output"] = l.OutputShape,
            ["parameters"] = l.Parameters, ["macs"] = l.Macs, ["precision"] = l.Precision, ["kernel"] = l.Kernel,
        }).ToList();
        var doc = new Dictionary<string, object>
        {
            ["class"] = (m.Namespace.Length > 0 ? m.Namespace + "." : "") + m.ClassName,
            ["source"] = source,
            ["compiler"] = CompilerVersion,
            ["precision"] = "float32",
            ["parameters"] = m.Parameters,
            ["weightBytes"] = m.Weights.Length,
            ["storedWeightBytes"] = m.StoredWeights.Length,
            ["arenaBytes"] = m.ArenaBytes,
            ["macs"] = m.Macs,
            ["layers"] = layers,
        };
        foreach (var section in m.Sections) doc[section.JsonKey] = section.Json;
        return System.Text.Json.JsonSerializer.Serialize(doc, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}

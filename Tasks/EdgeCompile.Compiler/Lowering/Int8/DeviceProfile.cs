using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Lowering.Int8;

/// <summary>
/// The latency table of one target (docs/mixed-precision.md, "Latency model"): cost per MAC of Conv/Gemm/MatMul per precision
/// (<c>float32</c>, <c>int8</c>, <c>int8weights</c>) and cost per element of the Quantize/Dequantize edges and of the weight
/// dequantization Int8WeightOnly runs before its float kernel. Units are arbitrary but one unit per file (the search only
/// compares plans of one profile): the committed design-ratio profiles use "one float32 MAC = 1", measured ones nanoseconds.
/// Profiles are JSON files under <c>build/devices/</c> (embedded in the compiler), chosen by <c>EdgeTargetDevice</c> (a name
/// or a path to a file, e.g. one <c>edgec measure-device</c> wrote), else derived from the RuntimeIdentifier.
/// </summary>
public sealed record DeviceProfile
{
    public required string Name { get; init; }
    /// <summary>Where the numbers came from (design ratio, or machine/date/command of a measurement).</summary>
    public required string Source { get; init; }
    public string Unit { get; init; } = "float32 MAC = 1";
    /// <summary>"Op.precision" (Conv, Gemm, MatMul × float32, int8, int8weights) → cost per MAC.</summary>
    public required IReadOnlyDictionary<string, double> MacCost { get; init; }
    public double QuantizeCostPerElement { get; init; }
    public double DequantizeCostPerElement { get; init; }
    /// <summary>Int8WeightOnly: rebuilding one float32 weight element from int8 before each run of the layer.</summary>
    public double DequantizeWeightCostPerElement { get; init; }
    /// <summary>The processor architecture the profile describes (<c>x64</c>, <c>arm64</c>), or null when the file does not say.
    /// A RuntimeIdentifier for another architecture is EDGE4016.</summary>
    public string? Architecture { get; init; }
    /// <summary>NativeAOT's <c>IlcInstructionSet</c> for this device (e.g. <c>x86-64-v3</c>, <c>armv8.2-a,dotprod</c>), or null.
    /// The package's targets pass it to ILC on <c>PublishAot</c> when the project sets <c>EdgeTargetDevice</c>, so the native
    /// code holds only this device's kernel paths (docs/mixed-precision.md, "Device profiles").</summary>
    public string? NativeAotInstructionSet { get; init; }
    /// <summary>Whether the device has the ARM64 dot-product extension (<c>sdot</c>), or null when the file does not say. Decides the
    /// int8 weight layout (<see cref="Int8WeightLayout"/>): the per-block weight sums are packed only for a device that can use them.</summary>
    public bool? DotProduct { get; init; }

    public const string DefaultName = "x64-avx2";

    public double CostPerMac(string op, string precision)
    {
        string p = precision switch { "int8" => "int8", Int8WeightLowerer.WeightOnlyPrecision => "int8weights", _ => "float32" };
        return MacCost.TryGetValue(op + "." + p, out var c) ? c
            : MacCost.TryGetValue("*." + p, out var d) ? d
            : p == "int8weights" && MacCost.TryGetValue(op + ".float32", out var f) ? f
            : MacCost.GetValueOrDefault("*.float32", 1);
    }

    /// <summary>The committed profiles' names (build/devices/*.json, embedded).</summary>
    public static IReadOnlyList<string> BuiltIn() => typeof(DeviceProfile).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("devices/", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n["devices/".Length..^".json".Length]).OrderBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>
    /// The profile for <paramref name="targetDevice"/> (a built-in name, or a path to a .json file), else for the
    /// RuntimeIdentifier (<c>*-x64</c> → x64-avx2, <c>*-arm64</c> → arm64, the conservative one without the dot-product
    /// extension), else the default (x64-avx2). Unknown names and unreadable files are EDGE4015.
    /// </summary>
    public static DeviceProfile Resolve(string? targetDevice, string? runtimeIdentifier)
    {
        if (targetDevice is { Length: > 0 } t)
        {
            DeviceProfile p;
            if (t.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || t.Contains('/') || t.Contains('\\'))
            {
                if (!File.Exists(t)) throw new EdgeException(EdgeCodes.InvalidDeviceProfile, $"EdgeTargetDevice '{t}': no such profile file.");
                p = Parse(File.ReadAllText(t), t);
            }
            else
                p = LoadBuiltIn(t) ?? throw new EdgeException(EdgeCodes.InvalidDeviceProfile,
                    $"EdgeTargetDevice '{t}' is not a known device profile (known: {string.Join(", ", BuiltIn())}; or give a path to a .json profile, e.g. one `edgec measure-device` wrote).");
            if (p.Architecture is { } arch && RidArchitecture(runtimeIdentifier) is { } ridArch && !string.Equals(arch, ridArch, StringComparison.OrdinalIgnoreCase))
                throw new EdgeException(EdgeCodes.DeviceArchitectureMismatch,
                    $"EdgeTargetDevice '{t}' describes an {arch} device, but RuntimeIdentifier '{runtimeIdentifier}' builds for {ridArch}. Pick a profile for {ridArch} (known: {string.Join(", ", BuiltIn())}) or the RuntimeIdentifier of the device.");
            return p;
        }
        string? fromRid = RidArchitecture(runtimeIdentifier) switch { "x64" => "x64-avx2", "arm64" => "arm64", _ => null };
        return LoadBuiltIn(fromRid ?? DefaultName)!;
    }

    /// <summary>
    /// The packed layout of the int8 Gemm/Conv weights for the declared target (Int8/README.md, "Packed layouts";
    /// docs/quantization.md, "Weight layout per target"): <see cref="Kernels.QWeightLayout.N8K4Sums"/> only when the target may run the ARM64
    /// dot-product path, the only one that reads the sums; else <see cref="Kernels.QWeightLayout.N8K4"/>.
    /// <list type="bullet">
    /// <item>EdgeTargetDevice given: its <c>dotProduct</c>; a profile without it: sums unless its architecture is x64.</item>
    /// <item>else the RuntimeIdentifier: <c>*-x64</c> → no sums; <c>*-arm64</c> (any ARM64 core, maybe one with the dot product) and
    /// any other RID → sums.</item>
    /// <item>else the build machine: x64 → no sums, anything else → sums. The plan still runs anywhere: on an ARM64 CPU with the dot
    /// product, weights without sums run the AdvSimd path (bit-exact, slower), so an ARM64 deployment should set its RID or device.</item>
    /// </list>
    /// </summary>
    public static Kernels.QWeightLayout Int8WeightLayout(string? targetDevice, string? runtimeIdentifier)
    {
        if (targetDevice is { Length: > 0 })
        {
            var p = Resolve(targetDevice, runtimeIdentifier);
            bool sums = p.DotProduct ?? !string.Equals(p.Architecture, "x64", StringComparison.OrdinalIgnoreCase);
            return sums ? Kernels.QWeightLayout.N8K4Sums : Kernels.QWeightLayout.N8K4;
        }
        if (runtimeIdentifier is { Length: > 0 })
            return RidArchitecture(runtimeIdentifier) == "x64" ? Kernels.QWeightLayout.N8K4 : Kernels.QWeightLayout.N8K4Sums;
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64
            ? Kernels.QWeightLayout.N8K4 : Kernels.QWeightLayout.N8K4Sums;
    }

    /// <summary>"x64" or "arm64" for RuntimeIdentifiers ending in those (linux-x64, win-arm64, osx-arm64, ...), else null.</summary>
    public static string? RidArchitecture(string? runtimeIdentifier) => runtimeIdentifier is not { Length: > 0 } rid ? null
        : rid.EndsWith("-x64", StringComparison.OrdinalIgnoreCase) || rid.Equals("x64", StringComparison.OrdinalIgnoreCase) ? "x64"
        : rid.EndsWith("-arm64", StringComparison.OrdinalIgnoreCase) || rid.Equals("arm64", StringComparison.OrdinalIgnoreCase) ? "arm64"
        : null;

    private static DeviceProfile? LoadBuiltIn(string name)
    {
        using var s = typeof(DeviceProfile).Assembly.GetManifestResourceStream("devices/" + name + ".json");
        if (s is null) return null;
        using var r = new StreamReader(s);
        return Parse(r.ReadToEnd(), name + ".json");
    }

    /// <summary>Reads a profile (EDGE4015 on malformed JSON, missing or negative costs).</summary>
    public static DeviceProfile Parse(string json, string where)
    {
        try
        {
            var root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("not a JSON object");
            var macs = new Dictionary<string, double>(StringComparer.Ordinal);
            if (root["macCost"] is not JsonObject m) throw new FormatException("no 'macCost' object");
            foreach (var (k, v) in m) macs[k] = Cost(v, "macCost." + k);
            if (!macs.ContainsKey("*.float32") && !macs.Keys.Any(k => k.EndsWith(".float32", StringComparison.Ordinal)))
                throw new FormatException("'macCost' has no float32 entry");
            return new DeviceProfile
            {
                Name = root["name"]?.GetValue<string>() ?? throw new FormatException("no 'name'"),
                Source = root["source"]?.GetValue<string>() ?? throw new FormatException("no 'source' (say where the numbers came from)"),
                Unit = root["unit"]?.GetValue<string>() ?? "float32 MAC = 1",
                MacCost = macs,
                QuantizeCostPerElement = Cost(root["quantizePerElement"], "quantizePerElement"),
                DequantizeCostPerElement = Cost(root["dequantizePerElement"], "dequantizePerElement"),
                DequantizeWeightCostPerElement = Cost(root["dequantizeWeightPerElement"], "dequantizeWeightPerElement"),
                Architecture = root["architecture"]?.GetValue<string>() is { } a
                    ? a is "x64" or "arm64" ? a : throw new FormatException($"'architecture' is '{a}', not x64 or arm64")
                    : null,
                NativeAotInstructionSet = root["nativeAotInstructionSet"]?.GetValue<string>() is { } isa
                    ? isa.Length > 0 && isa.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or ',' or '_') ? isa
                        : throw new FormatException($"'nativeAotInstructionSet' is '{isa}', not a comma-separated list of ILC instruction-set names")
                    : null,
                DotProduct = root["dotProduct"] is { } dp
                    ? dp.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? dp.GetValue<bool>() : throw new FormatException("'dotProduct' is not true or false")
                    : null,
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new EdgeException(EdgeCodes.InvalidDeviceProfile, $"Device profile '{where}' is malformed: {e.Message}.");
        }

        static double Cost(JsonNode? v, string what)
        {
            double d = v?.GetValue<double>() ?? throw new FormatException($"no '{what}'");
            return d >= 0 && double.IsFinite(d) ? d : throw new FormatException($"'{what}' is {d.ToString(CultureInfo.InvariantCulture)}, not a non-negative cost");
        }
    }

    public string ToJson(string? comment = null)
    {
        var o = new JsonObject
        {
            ["name"] = Name, ["source"] = Source, ["unit"] = Unit,
            ["macCost"] = new JsonObject(MacCost.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(Math.Round(kv.Value, 6))))),
            ["quantizePerElement"] = Math.Round(QuantizeCostPerElement, 6), ["dequantizePerElement"] = Math.Round(DequantizeCostPerElement, 6),
            ["dequantizeWeightPerElement"] = Math.Round(DequantizeWeightCostPerElement, 6),
        };
        if (Architecture is not null) o["architecture"] = Architecture;
        if (NativeAotInstructionSet is not null) o["nativeAotInstructionSet"] = NativeAotInstructionSet;
        if (DotProduct is not null) o["dotProduct"] = DotProduct.Value;
        if (comment is not null) o["comment"] = comment;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}

using System.Globalization;
using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Pruning;

/// <summary>How the channels to remove are ranked (docs/pruning.md compares them).</summary>
public enum PruningCriterion
{
    /// <summary>L1 norm of the channel's filter weights.</summary>
    L1,
    /// <summary>L2 norm of the channel's filter weights.</summary>
    L2,
    /// <summary>Measured on the calibration data: mean |activation| of the channel where its consumers read it, times the
    /// L2 norm of the consumer weights that read it (how much the consumers' outputs move without it).</summary>
    Activation,
}

/// <summary>
/// The pruning metadata of an <c>EdgeModel</c> item: <c>Pruning="Channels:0.3;Magnitude:0.5"</c>, <c>PruningLayers</c>,
/// <c>PruningExclude</c>, <c>PruningSteps</c>, <c>PruningCriterion</c>. <see cref="Parse"/> turns bad values into EDGE5001.
/// </summary>
public sealed record PruningOptions
{
    /// <summary>Fraction of output channels removed from each prunable Conv/Gemm/MatMul (0: no structured pruning).</summary>
    public double ChannelRate { get; init; }
    /// <summary>Fraction of the weights set to zero, per layer (or over all layers with <see cref="GlobalMagnitude"/>).</summary>
    public double MagnitudeRate { get; init; }
    /// <summary>One threshold over every pruned layer's |w| instead of one per layer.</summary>
    public bool GlobalMagnitude { get; init; }
    /// <summary>Per-layer rates (node or output name → rate); they override <see cref="ChannelRate"/> and the default exclusions.</summary>
    public IReadOnlyDictionary<string, double> LayerRates { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);
    /// <summary>Layers never pruned (node or output names).</summary>
    public IReadOnlySet<string> Exclude { get; init; } = new HashSet<string>(StringComparer.Ordinal);
    /// <summary>Prune in this many steps, re-fitting the consumers after each (the rates are reached at the last step).</summary>
    public int Steps { get; init; } = 1;
    public PruningCriterion Criterion { get; init; } = DefaultCriterion;
    /// <summary>Ridge regularization of the least-squares re-fit, relative to the mean diagonal of the Gram matrix.</summary>
    public double Ridge { get; init; } = 1e-3;
    /// <summary>Re-fit consumers by least squares on the calibration activations (needs calibration data).</summary>
    public bool Refit { get; init; } = true;
    /// <summary>Largest least-squares system (inputs per output of one consumer, e.g. channels × kernel area) that is re-fitted.</summary>
    public int MaxRefitDimension { get; init; } = 4096;
    /// <summary>Most rows (samples × output positions) accumulated per consumer; positions are strided deterministically.</summary>
    public int MaxRefitRows { get; init; } = 65536;
    /// <summary>Threads for the calibration passes (-1 = all cores). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Chosen from the measurements in docs/pruning.md.</summary>
    public const PruningCriterion DefaultCriterion = PruningCriterion.L2;

    public bool Enabled => ChannelRate > 0 || MagnitudeRate > 0 || LayerRates.Values.Any(r => r > 0);

    /// <summary>Parses the item's metadata (empty strings are "not set"). Returns null when nothing asks for pruning.</summary>
    public static PruningOptions? Parse(string pruning, string layers = "", string exclude = "", string steps = "", string criterion = "", string recovery = "")
    {
        if (string.IsNullOrWhiteSpace(pruning))
        {
            foreach (var (name, value) in new[] { ("PruningLayers", layers), ("PruningExclude", exclude), ("PruningSteps", steps), ("PruningCriterion", criterion), ("PruningRecovery", recovery) })
                if (!string.IsNullOrWhiteSpace(value))
                    throw Error($"{name} is set but Pruning is not: set Pruning=\"Channels:0.3\" (or Magnitude:0.5) to prune.");
            return null;
        }
        double channels = 0, magnitude = 0;
        bool global = false;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in pruning.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.IndexOf(':');
            string kind = colon < 0 ? part : part[..colon].Trim();
            if (colon < 0 || !seen.Add(kind))
                throw Error($"Pruning entry '{part}' is not 'Channels:rate', 'Magnitude:rate' or 'GlobalMagnitude:rate' (each at most once).");
            double rate = Rate(part[(colon + 1)..], $"Pruning entry '{part}'");
            switch (kind.ToLowerInvariant())
            {
                case "channels": channels = rate; break;
                case "magnitude": magnitude = rate; break;
                case "globalmagnitude": magnitude = rate; global = true; break;
                default: throw Error($"Pruning kind '{kind}' is unknown (use Channels, Magnitude or GlobalMagnitude).");
            }
        }
        if (seen.Contains("Magnitude") && seen.Contains("GlobalMagnitude"))
            throw Error("Pruning sets both Magnitude and GlobalMagnitude: choose one.");

        var layerRates = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in layers.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.LastIndexOf(':');
            if (colon <= 0) throw Error($"PruningLayers entry '{part}' is not 'name:rate'.");
            string name = part[..colon].Trim();
            if (!layerRates.TryAdd(name, Rate(part[(colon + 1)..], $"PruningLayers entry '{part}'")))
                throw Error($"PruningLayers names '{name}' twice.");
        }
        var excluded = new HashSet<string>(exclude.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
        foreach (var name in excluded)
            if (layerRates.ContainsKey(name)) throw Error($"'{name}' is both in PruningLayers and in PruningExclude.");

        int stepCount = 1;
        if (!string.IsNullOrWhiteSpace(steps) &&
            (!int.TryParse(steps, NumberStyles.None, CultureInfo.InvariantCulture, out stepCount) || stepCount < 1 || stepCount > 100))
            throw Error($"PruningSteps '{steps}' is not a whole number from 1 to 100.");
        var crit = DefaultCriterion;
        if (!string.IsNullOrWhiteSpace(criterion) && !(Enum.TryParse(criterion, ignoreCase: true, out crit) && Enum.IsDefined(crit) && !char.IsDigit(criterion.Trim()[0])))
            throw Error($"PruningCriterion '{criterion}' is unknown (use L1, L2 or Activation).");
        bool refit = recovery.Trim().ToLowerInvariant() switch
        {
            "" or "leastsquares" => true,
            "none" => false,
            _ => throw Error($"PruningRecovery '{recovery}' is unknown (use LeastSquares or None)."),
        };
        return new PruningOptions
        {
            ChannelRate = channels, MagnitudeRate = magnitude, GlobalMagnitude = global,
            LayerRates = layerRates, Exclude = excluded, Steps = stepCount, Criterion = crit, Refit = refit,
        };
    }

    /// <summary>The canonical text of these options (feeds the artifact's input hash).</summary>
    public string Canonical()
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv, $"channels={ChannelRate:R};magnitude={MagnitudeRate:R};global={GlobalMagnitude};steps={Steps};criterion={Criterion};recovery={(Refit ? "LeastSquares" : "None")};") +
            "layers=" + string.Join(",", LayerRates.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + kv.Value.ToString("R", inv))) +
            ";exclude=" + string.Join(",", Exclude.Order(StringComparer.Ordinal));
    }

    private static double Rate(string text, string what)
    {
        if (!double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double r) || !(r >= 0 && r < 1))
            throw Error($"{what}: the rate must be a number in [0, 1), got '{text.Trim()}'.");
        return r;
    }

    private static EdgeException Error(string message) => new(EdgeCodes.InvalidPruningOption, message);
}

using System.Reflection;
using EdgeCompile.Benchmarks.Compiled;

namespace EdgeCompile.Benchmarks.Compiled
{
    /// <summary>What the suite needs of a generated class: one float input, one float output.</summary>
    public interface IFloatModel
    {
        void Run(ReadOnlySpan<float> input, Span<float> output);
    }

    // The generated classes are partial: each gets the interface; its Run(ReadOnlySpan<float>, Span<float>) implements it.
    public sealed partial class DigitsCnn : IFloatModel;
    public sealed partial class TinyMlp : IFloatModel;
    public sealed partial class MobilenetV2 : IFloatModel;
    public sealed partial class Resnet18 : IFloatModel;
    public sealed partial class TransformerEncoder : IFloatModel;
    public sealed partial class DigitsCnnPruned : IFloatModel;
    public sealed partial class DigitsCnnInt8 : IFloatModel;
    public sealed partial class TinyMlpInt8 : IFloatModel;
    public sealed partial class MobilenetV2Int8 : IFloatModel;
    public sealed partial class Resnet18Int8 : IFloatModel;
    public sealed partial class TransformerEncoderInt8 : IFloatModel;
    public sealed partial class DigitsCnnPrunedInt8 : IFloatModel;
    public sealed partial class MobilenetV2Pruned : IFloatModel;
    public sealed partial class Resnet18Pruned : IFloatModel;
}

namespace EdgeCompile.Benchmarks.Suite
{
    /// <summary>One benchmark model: its ONNX file (for ONNX Runtime) and its compiled class (for EdgeCompile), and the
    /// int8 variant: its class, its quantization mode and the QDQ export ONNX Runtime runs.</summary>
    public sealed record BenchModel(string Name, string Description, string OnnxPath, Func<IFloatModel> Create,
        int InputLength, int OutputLength, long Parameters, long WeightBytes, long ArenaBytes, string PlanStem,
        Func<IFloatModel> CreateInt8, string Int8Class, string Int8Mode, long Int8WeightBytes)
    {
        public override string ToString() => Name;

        /// <summary>The int8 variant's QDQ export (written by the build next to its plan).</summary>
        public string Int8Onnx => Directory.GetFiles(Catalog.Metadata("EdgeCompileOutputDir"), "*.quantized.onnx", SearchOption.AllDirectories)
            .Single(f => File.Exists(Path.Combine(Path.GetDirectoryName(f)!, Int8Class + ".report.json")));
    }

    public static class Catalog
    {
        public static string Metadata(string key) =>
            typeof(Catalog).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
            ?? throw new InvalidOperationException($"assembly metadata {key} missing");

        private static string Generated(string file) => Path.Combine(Metadata("BenchmarkModelsDir"), file);

        public static readonly BenchModel[] All =
        [
            new("digits", "digits CNN 1x1x8x8 (Samples/DigitRecognizer)", Metadata("DigitsModel"), () => new DigitsCnn(),
                DigitsCnn.ImageLength, DigitsCnn.LogitsLength, DigitsCnn.Parameters, DigitsCnn.WeightBytes, DigitsCnn.ArenaBytes, "digits",
                () => new DigitsCnnInt8(), nameof(DigitsCnnInt8), "Int8", DigitsCnnInt8.WeightBytes),
            new("tiny_mlp", "tiny MLP 1x64 → 128 → 128 → 10", Generated("tiny_mlp.onnx"), () => new TinyMlp(),
                TinyMlp.XLength, TinyMlp.LogitsLength, TinyMlp.Parameters, TinyMlp.WeightBytes, TinyMlp.ArenaBytes, "tiny_mlp",
                () => new TinyMlpInt8(), nameof(TinyMlpInt8), "Int8", TinyMlpInt8.WeightBytes),
            new("mobilenet_v2", "MobileNetV2 1x3x224x224", Generated("mobilenet_v2.onnx"), () => new MobilenetV2(),
                MobilenetV2.InputLength, MobilenetV2.LogitsLength, MobilenetV2.Parameters, MobilenetV2.WeightBytes, MobilenetV2.ArenaBytes, "mobilenet_v2",
                () => new MobilenetV2Int8(), nameof(MobilenetV2Int8), "Int8", MobilenetV2Int8.WeightBytes),
            new("resnet18", "ResNet-18 1x3x224x224", Generated("resnet18.onnx"), () => new Resnet18(),
                Resnet18.InputLength, Resnet18.LogitsLength, Resnet18.Parameters, Resnet18.WeightBytes, Resnet18.ArenaBytes, "resnet18",
                () => new Resnet18Int8(), nameof(Resnet18Int8), "Int8", Resnet18Int8.WeightBytes),
            new("transformer_encoder", "transformer encoder 1x128x256, 2 layers", Generated("transformer_encoder.onnx"), () => new TransformerEncoder(),
                TransformerEncoder.HiddenLength, TransformerEncoder.OutputLength, TransformerEncoder.Parameters, TransformerEncoder.WeightBytes, TransformerEncoder.ArenaBytes, "transformer_encoder",
                () => new TransformerEncoderInt8(), nameof(TransformerEncoderInt8), "Int8Dynamic", TransformerEncoderInt8.WeightBytes),
        ];

        public static BenchModel Get(string name) =>
            Array.Find(All, m => m.Name == name) ?? throw new UsageException($"unknown model '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");

        /// <summary>A deterministic input in [-1, 1).</summary>
        public static float[] Input(int length, int seed = 1)
        {
            var rng = new Random(seed);
            var x = new float[length];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle() * 2 - 1;
            return x;
        }
    }
}

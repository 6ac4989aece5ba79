using Microsoft.ML.OnnxRuntime;

namespace EdgeCompile.Benchmarks.Suite;

/// <summary>
/// ONNX Runtime driven the fastest way its C# API allows: single thread (IntraOp = InterOp = 1, sequential),
/// ORT_ENABLE_ALL, and the input and output as <see cref="OrtValue"/>s created once over pinned managed arrays and
/// bound once with <see cref="OrtIoBinding"/>; each call is <c>RunWithBinding</c> with a reused <see cref="RunOptions"/>,
/// so nothing is allocated or copied on our side per call.
/// </summary>
public sealed class OrtRunner : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input, _output;
    private readonly OrtIoBinding _binding;

    public float[] Input { get; }
    public float[] Output { get; }

    public OrtRunner(string onnxPath, float[] input, int outputLength, string? profilePrefix = null)
    {
        _options = CreateOptions();
        if (profilePrefix is not null)
        {
            _options.EnableProfiling = true;
            _options.ProfileOutputPathPrefix = profilePrefix;
        }
        _session = new InferenceSession(onnxPath, _options);
        var inMeta = _session.InputMetadata.Single();
        var outMeta = _session.OutputMetadata.Single();
        Input = input;
        Output = new float[outputLength];
        _input = OrtValue.CreateTensorValueFromMemory(Input, inMeta.Value.Dimensions.Select(d => (long)d).ToArray());
        _output = OrtValue.CreateTensorValueFromMemory(Output, outMeta.Value.Dimensions.Select(d => (long)d).ToArray());
        _binding = _session.CreateIoBinding();
        _binding.BindInput(inMeta.Key, _input);
        _binding.BindOutput(outMeta.Key, _output);
    }

    public static SessionOptions CreateOptions() => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>Ends profiling (when enabled) and returns the JSON file ORT wrote.</summary>
    public string EndProfiling() => _session.EndProfiling();

    public void Dispose()
    {
        _binding.Dispose();
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}

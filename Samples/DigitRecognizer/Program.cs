using System.Diagnostics;
using System.Globalization;
using DigitRecognizer.Models;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Data;
using EdgeCompile.Compiler.Reference;

// The first sample: model/digits.onnx is compiled by the build (<EdgeModel> in DigitRecognizer.csproj) into
// the class DigitRecognizer.Models.DigitClassifier. We classify the held-out test set with it, compare with
// the float reference executor, and measure latency and allocations per inference.
var inv = CultureInfo.InvariantCulture;
string dir = Path.Combine(AppContext.BaseDirectory, "model");
var x = NpyFile.Load(Path.Combine(dir, "digits_test_x.npy"));
var y = NpyFile.Load(Path.Combine(dir, "digits_test_y.npy")).ToInt64s();
int n = x.Shape[0];
var images = x.As<float>();
if (x.Length / n != DigitClassifier.ImageLength) throw new InvalidDataException("test images do not match the model input");

var classifier = new DigitClassifier();
var logits = new float[DigitClassifier.LogitsLength];
var predicted = new int[n];
for (int i = 0; i < n; i++)
{
    classifier.Run(images.AsSpan(i * DigitClassifier.ImageLength, DigitClassifier.ImageLength), logits);
    predicted[i] = ArgMax(logits);
}
int correct = Enumerable.Range(0, n).Count(i => predicted[i] == y[i]);

// The float reference executor (the compiler's oracle) on the same data.
using var model = FrontEnd.Load(Path.Combine(dir, "digits.onnx"));
var reference = new ReferenceExecutor(model);
int referenceCorrect = 0, agree = 0;
double maxDiff = 0;
for (int i = 0; i < n; i++)
{
    var input = Tensor.FromArray(images.AsSpan(i * DigitClassifier.ImageLength, DigitClassifier.ImageLength).ToArray(), 1, 1, 8, 8);
    var r = reference.Run(new Dictionary<string, Tensor> { [model.Graph.Inputs[0].Name] = input })[model.Graph.Outputs[0].Name].As<float>();
    int rp = ArgMax(r);
    if (rp == y[i]) referenceCorrect++;
    if (rp == predicted[i]) agree++;
    classifier.Run(input.As<float>(), logits);
    for (int k = 0; k < r.Length; k++) maxDiff = Math.Max(maxDiff, Math.Abs(r[k] - logits[k]));
}

// Latency and allocations, measured after warm-up: long enough for the tiered JIT to replace the first code with its
// optimized version (it waits for 100 ms without new first calls before promoting hot methods, then compiles in the
// background), so the numbers are the steady state an application sees, not the start-up code.
var sample = images.AsSpan(0, DigitClassifier.ImageLength).ToArray();
WarmUp(() => classifier.Run(sample, logits));
const int Runs = 5000;
var times = new double[Runs];
long before = GC.GetAllocatedBytesForCurrentThread();
for (int i = 0; i < Runs; i++)
{
    long t0 = Stopwatch.GetTimestamp();
    classifier.Run(sample, logits);
    times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
}
long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
Array.Sort(times);

// The same model compiled with Quantization=Int8 (calibrated at build time on model/digits_calib_x.npy), and pruned
// (half the channels removed, the next layers re-fitted by least squares) then quantized.
var int8 = new DigitClassifierInt8();
var (int8Correct, int8Agree, int8Times) = Measure((xs, ys) => int8.Run(xs, ys));
var pruned = new DigitClassifierPruned();
var (prunedCorrect, prunedAgree, prunedTimes) = Measure((xs, ys) => pruned.Run(xs, ys));

Console.WriteLine($"model: model/digits.onnx compiled to {typeof(DigitClassifier).FullName} ({DigitClassifier.Parameters} parameters, {DigitClassifier.WeightBytes} weight bytes, {DigitClassifier.ArenaBytes} arena bytes)");
Console.WriteLine(string.Create(inv, $"accuracy: {100.0 * correct / n:F2}% ({correct}/{n} held-out digits)"));
Console.WriteLine(string.Create(inv, $"float reference accuracy: {100.0 * referenceCorrect / n:F2}% (predictions agree on {agree}/{n}; max |logit difference| {maxDiff:G3})"));
Console.WriteLine(string.Create(inv, $"median latency per inference: {times[Runs / 2]:F2} us (p90 {times[Runs * 9 / 10]:F2} us, single thread)"));
Console.WriteLine(string.Create(inv, $"allocated per inference: {allocated / Runs} B"));
Console.WriteLine(string.Create(inv, $"int8: {typeof(DigitClassifierInt8).FullName} ({DigitClassifierInt8.WeightBytes} weight bytes, {DigitClassifierInt8.ArenaBytes} arena bytes): accuracy {100.0 * int8Correct / n:F2}% ({int8Correct}/{n}; agrees with float on {int8Agree}/{n}), median latency {int8Times[Runs / 2]:F2} us (p90 {int8Times[Runs * 9 / 10]:F2} us)"));
Console.WriteLine(string.Create(inv, $"pruned + int8: {typeof(DigitClassifierPruned).FullName} ({DigitClassifierPruned.Parameters} parameters, {DigitClassifierPruned.WeightBytes} weight bytes): accuracy {100.0 * prunedCorrect / n:F2}% ({prunedCorrect}/{n}; agrees with float on {prunedAgree}/{n}), median latency {prunedTimes[Runs / 2]:F2} us (p90 {prunedTimes[Runs * 9 / 10]:F2} us)"));
return correct == referenceCorrect && agree == n ? 0 : 1;

// Accuracy on the test set (and agreement with the float class), then latency after warm-up.
(int Correct, int Agree, double[] Times) Measure(RunModel run)
{
    int ok = 0, same = 0;
    var output = new float[DigitClassifier.LogitsLength];
    for (int i = 0; i < n; i++)
    {
        run(images.AsSpan(i * DigitClassifier.ImageLength, DigitClassifier.ImageLength), output);
        int p = ArgMax(output);
        if (p == y[i]) ok++;
        if (p == predicted[i]) same++;
    }
    WarmUp(() => run(sample, output));
    var t = new double[Runs];
    for (int i = 0; i < Runs; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        run(sample, output);
        t[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
    }
    Array.Sort(t);
    return (ok, same, t);
}

// At least 1000 calls and 600 ms of them.
static void WarmUp(Action call)
{
    long start = Stopwatch.GetTimestamp();
    for (int i = 0; i < 1000 || Stopwatch.GetElapsedTime(start).TotalMilliseconds < 600; i++) call();
}

static int ArgMax(ReadOnlySpan<float> v)
{
    int best = 0;
    for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
    return best;
}

delegate void RunModel(ReadOnlySpan<float> input, Span<float> output);

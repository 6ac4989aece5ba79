using System.Diagnostics;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Tests.Support;
using Xunit.Abstractions;

namespace EdgeCompile.Tests.Fuzz;

/// <summary>
/// The "no hang" half of the untrusted-input contract at scale: the front end must stay near-linear in the
/// graph size. Random mutation does not build 100k-node graphs, so these shapes are generated here (as
/// files they would be megabytes; they are the regression tests for two quadratic scans found while fuzzing:
/// the cycle report's List.Contains and shape inference's per-output scan of the graph outputs).
/// At 100k nodes a quadratic pass takes tens of seconds; the linear front end takes about one.
/// </summary>
public class FuzzScaleTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("chain")]
    [InlineData("cycle_at_end")]
    [InlineData("every_value_an_output")]
    [InlineData("many_inputs")]
    public async Task LargeGraphsLoadInNearLinearTime(string shape)
    {
        const int n = 100_000;
        var b = new GraphBuilder();
        string prev = b.Input("x", DataType.Float, 1, 4);
        if (shape == "many_inputs") for (int i = 0; i < n; i++) b.Input($"i{i}", DataType.Float, 1);
        var values = new List<string>();
        for (int i = 0; i < n; i++) { prev = b.Node1("Relu", prev); values.Add(prev); }
        if (shape == "cycle_at_end") b.Node("Add", ["q", prev], 1);
        b.Output(prev, DataType.Float, [1, 4]);
        if (shape == "every_value_an_output") foreach (var v in values.Take(n - 1)) b.Output(v, DataType.Float, [1, 4]);
        var model = b.Build();
        if (shape == "cycle_at_end") model.Graph.Nodes[^1].Outputs[0] = "q"; // the last node feeds itself
        var bytes = OnnxWriter.Write(model);

        var clock = Stopwatch.StartNew();
        var task = Task.Factory.StartNew(() => FuzzHarness.Run(bytes, null), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20))) == task, $"{shape}: {n} nodes did not load in 20 s");
        var (outcome, code) = await task;
        output.WriteLine($"{shape}: {bytes.Length} bytes, {outcome} {code} in {clock.Elapsed.TotalSeconds:0.00} s");
        if (shape == "cycle_at_end") Assert.Equal(EdgeCodes.Cycle, code);
        else Assert.NotEqual(CaseOutcome.Rejected, outcome);
    }
}

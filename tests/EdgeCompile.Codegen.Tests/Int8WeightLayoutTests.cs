using System.Runtime.InteropServices;
using EdgeCompile.Codegen.Tests.Support;
using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Lowering.Int8;
using EdgeCompile.Kernels;

namespace EdgeCompile.Codegen.Tests;

/// <summary>
/// Which packed layout the int8 Conv/Gemm weights get for a declared target (docs/quantization.md, "Weight layout per target"):
/// the per-block weight sums only where the ARM64 dot-product path can run.
/// </summary>
public class Int8WeightLayoutTests
{
    [Theory]
    [InlineData("x64-avx2", "", QWeightLayout.N8K4)]
    [InlineData("x64-avx2", "linux-x64", QWeightLayout.N8K4)]
    [InlineData("cortex-a53", "linux-arm64", QWeightLayout.N8K4)]
    [InlineData("arm64", "", QWeightLayout.N8K4)]                  // the profile says: no dot product
    [InlineData("cortex-a76", "linux-arm64", QWeightLayout.N8K4Sums)]
    [InlineData("arm64-dotprod", "", QWeightLayout.N8K4Sums)]
    [InlineData("", "linux-x64", QWeightLayout.N8K4)]
    [InlineData("", "win-x64", QWeightLayout.N8K4)]
    [InlineData("", "linux-arm64", QWeightLayout.N8K4Sums)]        // any ARM64 core: it may have the dot product
    [InlineData("", "osx-arm64", QWeightLayout.N8K4Sums)]
    [InlineData("", "linux-musl-arm", QWeightLayout.N8K4Sums)]     // not a RID the profiles know: keep everything
    public void Layout_follows_the_device_then_the_runtime_identifier(string device, string rid, QWeightLayout expected) =>
        Assert.Equal(expected, DeviceProfile.Int8WeightLayout(device, rid));

    [Fact]
    public void Without_device_or_runtime_identifier_the_build_machine_decides()
    {
        var expected = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? QWeightLayout.N8K4 : QWeightLayout.N8K4Sums;
        Assert.Equal(expected, DeviceProfile.Int8WeightLayout(null, null));
        Assert.Equal(expected, DeviceProfile.Int8WeightLayout("", ""));
    }

    [Fact]
    public void A_profile_file_without_dotProduct_keeps_the_sums_unless_it_is_x64()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"edge-layout-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string Write(string name, string arch, string dot)
            {
                string path = Path.Combine(dir, name + ".json");
                File.WriteAllText(path, $$"""{ "name": "{{name}}", "source": "test", {{arch}} {{dot}} "macCost": { "*.float32": 1 }, "quantizePerElement": 1, "dequantizePerElement": 1, "dequantizeWeightPerElement": 1 }""");
                return path;
            }
            Assert.Equal(QWeightLayout.N8K4, DeviceProfile.Int8WeightLayout(Write("a", "\"architecture\": \"x64\",", ""), ""));
            Assert.Equal(QWeightLayout.N8K4Sums, DeviceProfile.Int8WeightLayout(Write("b", "\"architecture\": \"arm64\",", ""), ""));
            Assert.Equal(QWeightLayout.N8K4Sums, DeviceProfile.Int8WeightLayout(Write("c", "", ""), ""));
            Assert.Equal(QWeightLayout.N8K4, DeviceProfile.Int8WeightLayout(Write("d", "\"architecture\": \"arm64\",", "\"dotProduct\": false,"), ""));
            var e = Assert.Throws<Compiler.Diagnostics.EdgeException>(() => DeviceProfile.Int8WeightLayout(Write("e", "", "\"dotProduct\": 1,"), ""));
            Assert.Equal(Compiler.Diagnostics.EdgeCodes.InvalidDeviceProfile, e.Code);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Through <see cref="Compilation.Compile"/> (what edgec and the MSBuild task run): the plan's int8 calls carry the
    /// target's layout, the weight blob shrinks by the sums for x64, and the input hash changes with the target.</summary>
    [Fact]
    public void Compile_packs_for_the_runtime_identifier_and_device()
    {
        string dir = TestPaths.DigitsModelDir;
        string root = Path.Combine(Path.GetTempPath(), $"edge-layout-compile-{Environment.ProcessId}");
        try
        {
            Compilation.Result Compile(string rid, string device) => Compilation.Compile(new CompileRequest
            {
                ModelPath = Path.Combine(dir, "digits.onnx"),
                OutDir = Path.Combine(root, rid + "-" + device),
                ClassName = "DigitsInt8",
                Quantization = "Int8",
                CalibrationData = Path.Combine(dir, "digits_calib_x.npy"),
                RuntimeIdentifier = rid,
                TargetDevice = device,
            });
            var x64 = Compile("linux-x64", "");
            var arm = Compile("linux-arm64", "");
            var a53 = Compile("linux-arm64", "cortex-a53");
            string Layouts(Compilation.Result r) => string.Join(",", File.ReadAllLines(r.Paths.Plan)
                .Where(l => l.StartsWith("call QGemm.Run ", StringComparison.Ordinal) || l.StartsWith("call QConv.Conv2D ", StringComparison.Ordinal))
                .Select(l => l[(l.LastIndexOf(' ') + 1)..]).Distinct());
            Assert.Equal("enum:QWeightLayout.N8K4", Layouts(x64));
            Assert.Equal("enum:QWeightLayout.N8K4Sums", Layouts(arm));
            Assert.Equal("enum:QWeightLayout.N8K4", Layouts(a53));
            Assert.Equal(640, arm.Model.Weights.Length - x64.Model.Weights.Length);
            Assert.Equal(x64.Model.Weights.Length, a53.Model.Weights.Length);
            Assert.NotEqual(x64.InputHash, arm.InputHash);
            // Same bytes out of the kernels whatever the layout: the build-time accuracy is the same.
            Assert.Equal(x64.Accuracy?.Summary(), arm.Accuracy?.Summary());
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}

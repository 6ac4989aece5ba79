using EdgeCompile.Benchmarks.Models;

// EdgeCompile.Benchmarks.Models <output folder> [model ...]: writes the benchmark models (all by default).
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: EdgeCompile.Benchmarks.Models <output folder> [" + string.Join('|', Zoo.Names) + " ...]");
    return 2;
}
string dir = Path.GetFullPath(args[0]);
Directory.CreateDirectory(dir);
var names = args.Length > 1 ? args[1..] : Zoo.Names;
foreach (var name in names)
{
    var model = Zoo.Build(name);
    string path = Path.Combine(dir, name + ".onnx");
    string tmp = path + ".tmp";
    EdgeCompile.Compiler.Onnx.OnnxWriter.WriteFile(model, tmp);
    File.Move(tmp, path, overwrite: true); // atomic: a half-written model never looks up to date
    Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1024.0 / 1024.0:F1} MiB)");
    // Calibration data for the int8 variants: a few deterministic inputs in [-1, 1) (random weights: the ranges only need to
    // be representative of the benchmark's own inputs, which are drawn the same way).
    var input = model.Graph.Inputs[0].Type!.StaticShape!;
    int samples = input.Aggregate(1L, (a, d) => a * d) > 100_000 ? 2 : 16;
    string calib = Path.Combine(dir, name + "_calib.npy");
    WriteNpy(calib + ".tmp", [samples, .. input[1..]], name.Length);
    File.Move(calib + ".tmp", calib, overwrite: true);
}
return 0;

// A float32 .npy (format 1.0) of deterministic values in [-1, 1).
static void WriteNpy(string path, int[] shape, int seed)
{
    string dims = string.Join(", ", shape) + (shape.Length == 1 ? "," : "");
    string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    int total = 10 + header.Length + 1;
    header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
    using var f = File.Create(path);
    f.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
    f.Write(BitConverter.GetBytes((ushort)header.Length));
    f.Write(System.Text.Encoding.ASCII.GetBytes(header));
    var rng = new Random(seed);
    long count = shape.Aggregate(1L, (a, d) => a * d);
    var buffer = new byte[4];
    for (long i = 0; i < count; i++)
    {
        BitConverter.TryWriteBytes(buffer, rng.NextSingle() * 2 - 1);
        f.Write(buffer);
    }
}

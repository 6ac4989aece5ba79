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
}
return 0;

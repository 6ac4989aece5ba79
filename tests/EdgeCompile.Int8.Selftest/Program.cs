using System.Diagnostics;
using EdgeCompile.Int8.Checks;

// Runs every int8 check; prints one line per failure, then the summary and the paths that ran. Exit 1 on any failure.
int passed = 0, failed = 0;
var total = Stopwatch.StartNew();
foreach (var (name, run) in Int8Checks.All)
{
    var sw = Stopwatch.StartNew();
    try { run(); passed++; Console.WriteLine($"  ok   {name} ({sw.ElapsedMilliseconds} ms)"); }
    catch (Exception e) { failed++; Console.WriteLine($"  FAIL {name}: {e.GetType().Name}: {e.Message}"); }
}
Console.WriteLine($"int8 selftest: {passed} passed, {failed} failed ({total.ElapsedMilliseconds} ms)");
Console.WriteLine($"paths: {Int8Checks.PathNames()}");
// Which x64 register file the kernels saw (32 vector registers and the wide tiles with AVX-512): .ci/arm64-selftest.sh checks
// it is "off" in its DOTNET_EnableAVX512=0 run.
Console.WriteLine($"avx512: {(System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "on" : "off")}");
return failed == 0 ? 0 : 1;

using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.Onnx;
using EdgeCompile.Tests.Fuzz;
using System.Runtime.InteropServices;
using SharpFuzz;

namespace EdgeCompile.Fuzz;

/// <summary>
/// afl++ target (see README.md). Each input: <c>ModelFile.Parse</c>, <c>FrontEnd.Prepare</c>, decode every
/// initializer and, for small static shapes, run the reference executor on zero inputs (<see cref="FuzzTarget"/>).
/// Success or a coded <see cref="EdgeException"/> is fine; any other exception escapes and afl-fuzz records a crash
/// (so do an unknown code and EDGE9001, the compiler's internal-error code).
///
///   dotnet EdgeCompile.Fuzz.dll                  under afl-fuzz: the fork server (one input per afl execution)
///   dotnet EdgeCompile.Fuzz.dll --replay F|DIR…  triage: run each file in-process, print its outcome or stack trace;
///                                                exit code 1 when any input breaks the contract
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--replay") return Replay(args.Skip(1));
        // Out of process: SharpFuzz runs the inputs in a child process and restarts it after a crash, so a
        // StackOverflowException or a process-killing failure is reported as a crash too, not lost.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            Check(buffer.ToArray());
        });
        return 0;
    }

    /// <summary>Returns the EDGE code of a proper rejection, or null on success; throws on a contract violation.</summary>
    public static string? Check(byte[] bytes)
    {
        try
        {
            using var model = ModelFile.Parse(bytes);
            FrontEnd.Prepare(model);
            FuzzTarget.Exercise(model);
            return null;
        }
        catch (EdgeException e)
        {
            if (FuzzTarget.CodeViolation(e) is { } violation) throw new FuzzContractViolation(violation, e);
            // EDGE9001 is the compiler's own "internal error": a bug by definition (docs/security.md), so a crash here.
            if (e.Code == EdgeCodes.InternalError) throw new FuzzContractViolation($"internal error: {e.Message}", e);
            return e.Code;
        }
    }

    private static int Replay(IEnumerable<string> paths)
    {
        EnsureTraceBuffer();
        int bad = 0, total = 0;
        var files = paths.SelectMany(p => Directory.Exists(p)
            ? Directory.GetFiles(p).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal).ToArray()
            : new[] { p });
        foreach (var f in files)
        {
            total++;
            try
            {
                var code = Check(File.ReadAllBytes(f));
                Console.WriteLine($"ok    {f}: {code ?? "accepted"}");
            }
            catch (Exception e)
            {
                bad++;
                Console.WriteLine($"CRASH {f}: {e}");
            }
        }
        Console.WriteLine($"{total - bad} passed, {bad} failed");
        return bad == 0 ? 0 : 1;
    }

    /// <summary>
    /// Outside afl-fuzz, an instrumented EdgeCompile.Compiler.dll still writes its edge counters through
    /// <c>Trace.SharedMem</c>, which only the fork server sets: give it a private buffer of afl's map size, or the
    /// first instrumented branch faults (AccessViolationException). Harmless for an uninstrumented build.
    /// </summary>
    private static unsafe void EnsureTraceBuffer()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)NativeMemory.AllocZeroed(1 << 16);
    }
}

/// <summary>A coded error whose code is unknown or malformed, or without a message: a crash for afl-fuzz.</summary>
public sealed class FuzzContractViolation(string message, Exception inner) : Exception(message, inner);

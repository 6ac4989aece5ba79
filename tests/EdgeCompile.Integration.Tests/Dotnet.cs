using System.Diagnostics;
using System.Text;

namespace EdgeCompile.Integration.Tests;

/// <summary>Runs the dotnet CLI (or any program) and captures its output, with a time limit.</summary>
public static class Dotnet
{
    public static string RepoRoot { get; } = typeof(Dotnet).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().First(a => a.Key == "EdgeCompileRepoRoot").Value!;

    public sealed record Result(int ExitCode, string Output)
    {
        public Result Ok(string what)
        {
            if (ExitCode != 0) throw new Xunit.Sdk.XunitException($"{what} failed with exit code {ExitCode}:\n{Output}");
            return this;
        }
    }

    public static Result Run(string workingDirectory, string fileName, string arguments, int timeoutSeconds = 600)
    {
        var psi = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The consumer is a stranger to this repository: none of our build settings leak into it.
        psi.Environment.Remove("EDGE_BUILD_ROOT");
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        var output = new StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {arguments}' did not finish in {timeoutSeconds} s:\n{output}");
        }
        p.WaitForExit();
        lock (output) return new Result(p.ExitCode, output.ToString());
    }

    public static Result Cli(string workingDirectory, string arguments, int timeoutSeconds = 600) => Run(workingDirectory, "dotnet", arguments, timeoutSeconds);
}

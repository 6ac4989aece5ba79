namespace EdgeCompile.Integration.Tests;

/// <summary>
/// Packs the repository once per test run, as `dotnet pack` would for a release, with a unique prerelease
/// version so the NuGet cache never serves a stale copy of an earlier run.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "edgecompile-it-" + Guid.NewGuid().ToString("N")[..8]);
    public string PackageDir => Path.Combine(Root, "packages");
    public string Version { get; } = "0.1.0-it" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);

    public PackageFixture()
    {
        Directory.CreateDirectory(PackageDir);
        var project = Path.Combine(Dotnet.RepoRoot, "build", "package", "EdgeCompile.Package.csproj");
        Dotnet.Cli(Dotnet.RepoRoot, $"pack \"{project}\" -c Release -o \"{PackageDir}\" -p:PackageVersion={Version}").Ok("dotnet pack");
        if (!File.Exists(Path.Combine(PackageDir, $"EdgeCompile.{Version}.nupkg")))
            throw new InvalidOperationException("dotnet pack did not produce EdgeCompile." + Version + ".nupkg");
    }

    /// <summary>A fresh console project in its own folder that references only the packed package.</summary>
    public string CreateConsumer(string name, string itemXml, string programCs, params (string From, string To)[] files)
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="edgecompile-local" value="{PackageDir}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <RootNamespace>Consumer</RootNamespace>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="EdgeCompile" Version="{Version}" />
                {itemXml}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), programCs);
        foreach (var (from, to) in files)
        {
            var target = Path.Combine(dir, to);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(from, target, overwrite: true);
        }
        return dir;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

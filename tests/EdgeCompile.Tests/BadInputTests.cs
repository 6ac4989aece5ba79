using EdgeCompile.Compiler;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Tests.Support;

namespace EdgeCompile.Tests;

/// <summary>
/// Every file in Corpus/bad (made by Corpus/make_bad_corpus.py) must end in the coded error listed in
/// Corpus/bad/expected.txt, naming the file: never a crash, a hang or an unrelated exception.
/// </summary>
public class BadInputTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(TestPaths.TestDir, "Corpus", "bad", "expected.txt")))
        {
            if (line.StartsWith('#') || line.Trim().Length == 0) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            data.Add(parts[0], parts[1]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadFileGivesItsCode(string file, string codes)
    {
        var path = Path.Combine(TestPaths.TestDir, "Corpus", "bad", file);
        var e = Assert.Throws<EdgeException>(() =>
        {
            using var m = FrontEnd.Load(path);
            foreach (var c in m.Graph.Initializers) _ = c.Value; // the compile step reads every weight
        });
        Assert.Contains(e.Code, codes.Split('|'));
        Assert.Equal(path, e.File);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.StartsWith(path + ": error EDGE", e.ToString());
    }

    [Fact]
    public void CorpusListsEveryFile()
    {
        var dir = Path.Combine(TestPaths.TestDir, "Corpus", "bad");
        var listed = Cases().Select(r => (string)r[0]).ToHashSet();
        var onDisk = Directory.GetFiles(dir, "*.onnx").Select(Path.GetFileName).ToHashSet();
        Assert.Equal(onDisk.OrderBy(x => x), listed.OrderBy(x => x));
    }

    [Fact]
    public void MissingFileIsCoded()
    {
        var e = Assert.Throws<EdgeException>(() => FrontEnd.Load("/nonexistent/model.onnx"));
        Assert.Equal(EdgeCodes.FileNotFound, e.Code);
    }
}

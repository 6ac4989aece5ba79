using System.Text;

namespace EdgeCompile.Generators;

/// <summary>
/// Builds generated source with four-space indentation and '\n' line ends (the output is identical on every OS).
/// It writes strings only: callers format numbers with <see cref="System.Globalization.CultureInfo.InvariantCulture"/>
/// (see <see cref="EdgePlanGenerator"/>'s <c>Inv</c> helpers), never the current culture.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    public void WriteLine(string line)
    {
        if (line.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
        }
        _builder.Append(line).Append('\n');
    }

    public void WriteLine() => _builder.Append('\n');

    /// <summary>Writes <paramref name="line"/> and an opening brace, then indents.</summary>
    public void OpenBlock(string line)
    {
        WriteLine(line);
        WriteLine("{");
        _indent++;
    }

    /// <summary>Unindents and writes a closing brace.</summary>
    public void CloseBlock()
    {
        _indent--;
        WriteLine("}");
    }

    public override string ToString() => _builder.ToString();
}

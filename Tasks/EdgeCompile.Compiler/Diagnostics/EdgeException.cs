namespace EdgeCompile.Compiler.Diagnostics;

/// <summary>
/// A problem a user can cause (a bad model file, an unsupported operator, bad metadata).
/// Carries a stable code (<c>EDGE</c> + four digits, documented in docs/diagnostics.md),
/// the offending file and, where one applies, the node. Bugs in the compiler are ordinary exceptions.
/// </summary>
public sealed class EdgeException : Exception
{
    public EdgeException(string code, string message, string? file = null, string? nodeName = null, string? opType = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        File = file;
        NodeName = nodeName;
        OpType = opType;
    }

    public string Code { get; }
    public string? File { get; private set; }
    public string? NodeName { get; private set; }
    public string? OpType { get; private set; }

    /// <summary>Returns a copy that names the file, keeping everything else.</summary>
    public EdgeException WithFile(string file) =>
        File is null ? new EdgeException(Code, Message, file, NodeName, OpType, InnerException) : this;

    /// <summary>Returns a copy that names <paramref name="file"/> as the location, replacing any file named so far.</summary>
    public EdgeException WithFileOverride(string file) => new(Code, Message, file, NodeName, OpType, InnerException);

    /// <summary>Returns a copy that names the node, keeping everything else.</summary>
    public EdgeException WithNode(string? nodeName, string? opType) =>
        NodeName is null && OpType is null ? new EdgeException(Code, Message, File, nodeName, opType, InnerException) : this;

    /// <summary>MSBuild-style one-line form: <c>file: error EDGE1234: [node 'n' (Op)] message</c>.</summary>
    public override string ToString()
    {
        var where = File is null ? "" : File + ": ";
        var node = NodeName is null && OpType is null ? "" : $"node '{NodeName}' ({OpType}): ";
        return $"{where}error {Code}: {node}{Message}";
    }
}

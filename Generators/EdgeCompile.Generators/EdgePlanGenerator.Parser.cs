using System.Globalization;
using EdgeCompile.Generators.Model;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace EdgeCompile.Generators;

public sealed partial class EdgePlanGenerator
{
    /// <summary>The plan version this generator reads (docs/edgeplan.md, "Plan grammar (version 1)").</summary>
    internal const string SupportedVersion = "1";

    /// <summary>Parses one plan. Never throws for a bad plan: every problem is a diagnostic and the plan is then null.</summary>
    internal static PlanFile Parse(string path, SourceText? text, CancellationToken cancellationToken)
        => new PlanParser(path).Parse(text, cancellationToken);

    /// <summary>Reads a plan line by line (grammar in docs/edgeplan.md); collects every error rather than stopping at the first.</summary>
    private sealed class PlanParser
    {
        private const string Incomplete = "the plan is incomplete: rebuild; the EdgeCompile build step writes it";

        private readonly string _path;
        private readonly List<DiagnosticInfo> _diagnostics = new();
        private readonly List<MetaSpec> _meta = new();
        private readonly List<TensorSpec> _inputs = new();
        private readonly List<TensorSpec> _outputs = new();
        private readonly List<NodeSpec> _pendingNodes = new();
        private readonly List<CallSpec> _calls = new();
        private readonly HashSet<string> _memberNames = new(StringComparer.Ordinal);

        private TextLine _line;
        private bool _sawHeader;
        private bool _sawEnd;
        private string? _namespace;
        private string? _className;
        private string? _resource;
        private int? _arenaBytes;
        private long? _weightBytes;
        private long? _parameters;
        private List<TensorSpec>? _lastTensorList;

        public PlanParser(string path) => _path = path;

        public PlanFile Parse(SourceText? text, CancellationToken cancellationToken)
        {
            int lastLine = 0;
            if (text is not null)
            {
                foreach (TextLine line in text.Lines)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    _line = line;
                    string content = text.ToString(line.Span).Trim();
                    if (content.Length == 0 || content[0] == '#')
                    {
                        continue;
                    }
                    lastLine = line.LineNumber;
                    if (!ParseLine(content))
                    {
                        break;
                    }
                }
            }

            _line = text is not null && text.Lines.Count > 0 ? text.Lines[lastLine] : default;
            if (_diagnostics.Count == 0 || _sawHeader)
            {
                CheckComplete();
            }

            PlanSpec? plan = _diagnostics.Count > 0 ? null : new PlanSpec(
                System.IO.Path.GetFileName(_path),
                _namespace ?? "",
                _className!,
                _resource,
                _arenaBytes!.Value,
                _weightBytes ?? 0,
                _parameters ?? 0,
                _meta.ToEquatableArray(),
                _inputs.ToEquatableArray(),
                _outputs.ToEquatableArray(),
                _calls.ToEquatableArray());
            return new PlanFile(_path, plan, _diagnostics.ToEquatableArray());
        }

        /// <summary>Parses one non-blank, non-comment line; false stops reading (a wrong header or version).</summary>
        private bool ParseLine(string content)
        {
            string keyword = Head(content, out string rest);
            if (!_sawHeader)
            {
                if (keyword != "edgeplan" || rest.Length == 0)
                {
                    Error("expected 'edgeplan <version>' as the first line, got '" + content + "'");
                    return false;
                }
                if (rest != SupportedVersion)
                {
                    _diagnostics.Add(Diagnostic(DiagnosticDescriptors.UnsupportedVersion.Id, rest, SupportedVersion));
                    return false;
                }
                _sawHeader = true;
                return true;
            }
            if (_sawEnd)
            {
                Error("expected nothing after 'end', got '" + content + "'");
                return true;
            }

            switch (keyword)
            {
                case "meta": ParseMeta(rest); break;
                case "namespace": ParseNamespace(rest); break;
                case "class": ParseClass(rest); break;
                case "resource": ParseResource(rest); break;
                case "arena": ParseArena(rest); break;
                case "input": ParseTensor(rest, "input", _inputs); break;
                case "output": ParseTensor(rest, "output", _outputs); break;
                case "doc": ParseDoc(rest); break;
                case "node": ParseNode(rest); break;
                case "call": ParseCall(rest); break;
                case "end":
                    if (rest.Length != 0)
                    {
                        Error("expected 'end' alone, got '" + content + "'");
                    }
                    _sawEnd = true;
                    break;
                case "edgeplan": Error("'edgeplan <version>' may only be the first line"); break;
                default:
                    Error("expected a line starting with one of edgeplan, meta, namespace, class, resource, arena, input, output, doc, node, call, end; got '" + keyword + "'");
                    break;
            }
            return true;
        }

        /// <summary>After the last line: the plan must have ended, and declared what every plan declares.</summary>
        private void CheckComplete()
        {
            if (!_sawHeader || !_sawEnd)
            {
                Error(Incomplete);
                return;
            }
            if (_className is null)
            {
                Error("expected a 'class <ClassName>' line before 'end'");
            }
            if (_arenaBytes is null)
            {
                Error("expected an 'arena <bytes>' line before 'end'");
            }
            if (_pendingNodes.Count > 0)
            {
                Error("expected a 'call' line after 'node " + Inv(_pendingNodes[0].Index) + "', got 'end'");
            }
        }

        // meta <key> <value, may contain spaces>
        private void ParseMeta(string rest)
        {
            string key = Head(rest, out string value);
            if (key.Length == 0)
            {
                Error("expected 'meta <key> <value>'");
                return;
            }
            if (key is "weight-bytes" or "parameters")
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
                {
                    Error("expected 'meta " + key + " <non-negative integer>', got '" + value + "'");
                    return;
                }
                if (key == "weight-bytes")
                {
                    _weightBytes = number;
                }
                else
                {
                    _parameters = number;
                }
            }
            _meta.Add(new MetaSpec(key, value));
        }

        // namespace <Dotted.Namespace>, or 'namespace' alone for the global namespace
        private void ParseNamespace(string rest)
        {
            if (_namespace is not null)
            {
                Error("expected one 'namespace' line, got a second");
                return;
            }
            if (rest.Length != 0 && !rest.Split('.').All(IsPlainIdentifier))
            {
                Error("expected 'namespace <Dotted.Namespace>' (or 'namespace' alone), got 'namespace " + rest + "'");
                return;
            }
            _namespace = rest;
        }

        // class <ClassName>
        private void ParseClass(string rest)
        {
            if (_className is not null)
            {
                Error("expected one 'class' line, got a second");
            }
            else if (!IsPlainIdentifier(rest))
            {
                Error("expected 'class <ClassName>' with a C# identifier, got 'class " + rest + "'");
            }
            else
            {
                _className = rest;
            }
        }

        // resource <logical-resource-name>
        private void ParseResource(string rest)
        {
            if (_resource is not null)
            {
                Error("expected at most one 'resource' line, got a second");
            }
            else if (rest.Length == 0 || rest.IndexOf(' ') >= 0)
            {
                Error("expected 'resource <logical-resource-name>' (one token), got 'resource " + rest + "'");
            }
            else
            {
                _resource = rest;
            }
        }

        // arena <bytes>
        private void ParseArena(string rest)
        {
            if (_arenaBytes is not null)
            {
                Error("expected one 'arena' line, got a second");
            }
            else if (!int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out int bytes))
            {
                Error("expected 'arena <bytes>' with a non-negative int, got 'arena " + rest + "'");
            }
            else
            {
                _arenaBytes = bytes;
            }
        }

        // input <index> <paramName> <dtype> <dims>, output <index> <paramName> <dtype> <dims>
        private void ParseTensor(string rest, string kind, List<TensorSpec> list)
        {
            string expected = "expected '" + kind + " <index> <paramName> <dtype> <dims>'";
            string[] tokens = Tokens(rest);
            if (tokens.Length != 4)
            {
                Error(expected + ", got '" + kind + " " + rest + "'");
                return;
            }
            if (!TryParseIndex(tokens[0], out int index) || list.Any(t => t.Index == index))
            {
                Error(expected + " with a new non-negative index, got '" + tokens[0] + "'");
                return;
            }
            string name = tokens[1];
            if (!SyntaxFacts.IsValidIdentifier(name) || name[0] == '_' || name.StartsWith("s_", StringComparison.Ordinal))
            {
                Error(expected + " with a camelCase identifier as paramName, got '" + name + "'");
                return;
            }
            if (!_memberNames.Add(ToPascal(name)))
            {
                Error(expected + " with a paramName unlike the others (ignoring the first letter's case), got '" + name + "' again");
                return;
            }
            if (!TryParseDataType(tokens[2], out DataType type))
            {
                Error(expected + " with dtype one of " + DataTypes + ", got '" + tokens[2] + "'");
                return;
            }
            if (!TryParseDims(tokens[3], out EquatableArray<int> dims))
            {
                Error(expected + " with dims 'x'-separated non-negative ints ('-' for a scalar) of at most 2^31-1 elements, got '" + tokens[3] + "'");
                return;
            }
            list.Add(new TensorSpec(index, name, type, dims, null, null));
            _lastTensorList = list;
        }

        // doc <onnxName of input/output> <text>: documents the input or output line just before it
        private void ParseDoc(string rest)
        {
            string onnxName = Head(rest, out string docText);
            if (_lastTensorList is null || onnxName.Length == 0)
            {
                Error("expected 'doc <onnxName> <text>' right after an 'input' or 'output' line");
                return;
            }
            TensorSpec tensor = _lastTensorList[_lastTensorList.Count - 1];
            if (tensor.OnnxName is not null)
            {
                Error("expected one 'doc' line per input or output, got a second for '" + tensor.Name + "'");
                return;
            }
            _lastTensorList[_lastTensorList.Count - 1] = tensor with { OnnxName = onnxName, Doc = docText.Length == 0 ? null : docText };
        }

        // node <index> <OpType> <onnx node name>: comments for the next call
        private void ParseNode(string rest)
        {
            string indexToken = Head(rest, out string afterIndex);
            string opType = Head(afterIndex, out string name);
            if (!TryParseIndex(indexToken, out int index) || opType.Length == 0)
            {
                Error("expected 'node <index> <OpType> <onnx node name>', got 'node " + rest + "'");
                return;
            }
            _pendingNodes.Add(new NodeSpec(index, opType, name));
        }

        // call <Type>.<Method>[<dtype,...>] <arg> <arg> ...
        private void ParseCall(string rest)
        {
            string[] tokens = Tokens(rest);
            if (tokens.Length == 0 || !TryParseTarget(tokens[0], out string type, out string method, out EquatableArray<DataType> typeArguments))
            {
                Error("expected 'call <Type>.<Method> <arg> ...' (optionally <Method><dtype,...>), got 'call " + rest + "'");
                _pendingNodes.Clear();
                return;
            }
            var arguments = new List<ArgumentSpec>(tokens.Length - 1);
            for (int i = 1; i < tokens.Length; i++)
            {
                if (ParseArgument(tokens[i]) is { } argument)
                {
                    arguments.Add(argument);
                }
            }
            _calls.Add(new CallSpec(_calls.Count, _pendingNodes.ToEquatableArray(), type, method, typeArguments, arguments.ToEquatableArray()));
            _pendingNodes.Clear();
        }

        /// <summary>One call argument per the table in docs/edgeplan.md; null (with an error) when malformed.</summary>
        private ArgumentSpec? ParseArgument(string token)
        {
            int colon = token.IndexOf(':');
            string kind = colon < 0 ? token : token.Substring(0, colon);
            string value = colon < 0 ? "" : token.Substring(colon + 1);
            ArgumentSpec? argument = kind switch
            {
                "in" => TryParseIndex(value, out int i) && i >= 0 && _inputs.Any(t => t.Index == i) ? new InputArgument(i) : null,
                "out" => TryParseIndex(value, out int o) && _outputs.Any(t => t.Index == o) ? new OutputArgument(o) : null,
                "a" => ParseSlice(value, arena: true),
                "w" => ParseSlice(value, arena: false),
                "e" => TryParseDataType(value, out DataType e) ? new EmptyArgument(e) : null,
                "i" => int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? new IntArgument(n) : null,
                "l" => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) ? new LongArgument(l) : null,
                "f" => TryParseFloat(value, out float f) ? new FloatArgument(f) : null,
                "b" => value switch { "true" => new BoolArgument(true), "false" => new BoolArgument(false), _ => null },
                "enum" => ParseEnum(value),
                "ints" => ParseInts(value),
                _ => null,
            };
            if (argument is null)
            {
                Error("expected an argument " + ExpectedArgument(kind) + ", got '" + token + "'");
            }
            return argument;
        }

        private string ExpectedArgument(string kind) => kind switch
        {
            "in" => "'in:<i>' naming an input line above (indices: " + string.Join(", ", _inputs.Select(t => Inv(t.Index))) + ")",
            "out" => "'out:<i>' naming an output line above (indices: " + string.Join(", ", _outputs.Select(t => Inv(t.Index))) + ")",
            "a" => "'a:<dtype>:<byteOffset>:<count>' inside the arena (" + (_arenaBytes is { } bytes ? Inv(bytes) + " bytes" : "no 'arena' line above") + ")",
            "w" => _resource is null
                ? "'w:<dtype>:<byteOffset>:<count>' after a 'resource' line (this plan has none above)"
                : "'w:<dtype>:<byteOffset>:<count>' inside the weights (" + (_weightBytes is { } w ? Inv(w) : "?") + " bytes)",
            "e" => "'e:<dtype>' with dtype one of " + DataTypes,
            "i" => "'i:<int>' (32-bit)",
            "l" => "'l:<long>'",
            "f" => "'f:<float>' (invariant culture, or NaN, Inf, -Inf)",
            "b" => "'b:true' or 'b:false'",
            "enum" => "'enum:<Type>.<Member>'",
            "ints" => "'ints:<int>,<int>,...'",
            _ => "of a known kind (in, out, a, w, e, i, l, f, b, enum, ints)",
        };

        // a:<dtype>:<byteOffset>:<count> or w:<dtype>:<byteOffset>:<count>; the slice must fit its buffer.
        private ArgumentSpec? ParseSlice(string value, bool arena)
        {
            string[] parts = value.Split(':');
            if (parts.Length != 3
                || !TryParseDataType(parts[0], out DataType type)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int offset)
                || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            {
                return null;
            }
            long end = offset + ((long)count * SizeOf(type));
            if (arena)
            {
                return _arenaBytes is { } bytes && end <= bytes ? new ArenaArgument(type, offset, count) : null;
            }
            return _resource is not null && end <= (_weightBytes ?? int.MaxValue) ? new WeightArgument(type, offset, count) : null;
        }

        private static ArgumentSpec? ParseEnum(string value)
        {
            string[] parts = value.Split('.');
            return parts.Length == 2 && parts.All(IsPlainIdentifier) ? new EnumArgument(parts[0], parts[1]) : null;
        }

        private static ArgumentSpec? ParseInts(string value)
        {
            if (value.Length == 0)
            {
                return new IntsArgument(EquatableArray<int>.Empty);
            }
            string[] parts = value.Split(',');
            int[] values = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]))
                {
                    return null;
                }
            }
            return new IntsArgument(new EquatableArray<int>(values));
        }

        // <Type>.<Method>, or <Type>.<Method><dtype,...> (an extension of the v1 grammar, optional): explicit type
        // arguments for a generic kernel. Today's generic kernels all take a Span<T> output, which lets C# infer T,
        // but a kernel whose T only appears in ReadOnlySpan<T> parameters fed arena (Span<T>) slices would not infer
        // before C# 14.
        private static bool TryParseTarget(string token, out string type, out string method, out EquatableArray<DataType> typeArguments)
        {
            type = method = "";
            typeArguments = EquatableArray<DataType>.Empty;
            int angle = token.IndexOf('<');
            string name = angle < 0 ? token : token.Substring(0, angle);
            if (angle >= 0)
            {
                if (token[token.Length - 1] != '>')
                {
                    return false;
                }
                var types = new List<DataType>();
                foreach (string part in token.Substring(angle + 1, token.Length - angle - 2).Split(','))
                {
                    if (!TryParseDataType(part, out DataType dataType))
                    {
                        return false;
                    }
                    types.Add(dataType);
                }
                typeArguments = types.ToEquatableArray();
            }
            string[] parts = name.Split('.');
            if (parts.Length != 2 || !parts.All(IsPlainIdentifier))
            {
                return false;
            }
            type = parts[0];
            method = parts[1];
            return true;
        }

        private static bool TryParseFloat(string value, out float result)
        {
            switch (value)
            {
                case "NaN": result = float.NaN; return true;
                case "Inf": result = float.PositiveInfinity; return true;
                case "-Inf": result = float.NegativeInfinity; return true;
            }
            // .NET Framework throws (TryParse: false) on overflow where .NET Core gives infinity; both are rejected:
            // infinities are spelled Inf/-Inf.
            return float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out result)
                && !float.IsNaN(result) && !float.IsInfinity(result);
        }

        private static bool TryParseDims(string token, out EquatableArray<int> dims)
        {
            dims = EquatableArray<int>.Empty;
            if (token == "-")
            {
                return true;
            }
            string[] parts = token.Split('x');
            int[] values = new int[parts.Length];
            long length = 1;
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
                {
                    return false;
                }
                length *= values[i];
                if (length > int.MaxValue)
                {
                    return false;
                }
            }
            dims = new EquatableArray<int>(values);
            return true;
        }

        private static bool TryParseIndex(string token, out int index)
            => int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out index);

        private const string DataTypes = "f32 f64 f16 bf16 i64 i32 i16 i8 u64 u32 u16 u8 bool";

        internal static bool TryParseDataType(string token, out DataType type)
        {
            switch (token)
            {
                case "f32": type = DataType.F32; return true;
                case "f64": type = DataType.F64; return true;
                case "i64": type = DataType.I64; return true;
                case "i32": type = DataType.I32; return true;
                case "i16": type = DataType.I16; return true;
                case "i8": type = DataType.I8; return true;
                case "u8": type = DataType.U8; return true;
                case "u16": type = DataType.U16; return true;
                case "bool": type = DataType.Bool; return true;
                case "f16": type = DataType.F16; return true;
                case "bf16": type = DataType.BF16; return true;
                case "u32": type = DataType.U32; return true;
                case "u64": type = DataType.U64; return true;
                default: type = default; return false;
            }
        }

        /// <summary>A C# identifier that is not a keyword (class, namespace, kernel type and member names are never escaped).</summary>
        private static bool IsPlainIdentifier(string name)
            => SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None;

        /// <summary>The first space-separated token; <paramref name="rest"/> is the remainder, trimmed.</summary>
        private static string Head(string text, out string rest)
        {
            int space = text.IndexOf(' ');
            if (space < 0)
            {
                rest = "";
                return text;
            }
            rest = text.Substring(space + 1).Trim();
            return text.Substring(0, space);
        }

        private static string[] Tokens(string text) => text.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);

        private void Error(string message)
            => _diagnostics.Add(Diagnostic(DiagnosticDescriptors.MalformedPlan.Id, Inv(_line.LineNumber + 1), message));

        private DiagnosticInfo Diagnostic(string id, params string[] arguments)
            => new(id, _path, _line.LineNumber, _line.Start, _line.Span.Length, arguments.ToEquatableArray());
    }
}

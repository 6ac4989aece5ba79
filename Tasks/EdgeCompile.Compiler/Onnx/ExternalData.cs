using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Onnx;

/// <summary>
/// Resolves TensorProto external data (keys <c>location</c>, <c>offset</c>, <c>length</c>, per onnx.proto).
/// A model file is untrusted input: the location must be a relative path that stays inside the model's
/// folder after resolving links; absolute paths, <c>..</c> escapes and links leading out are rejected.
/// </summary>
public static class ExternalData
{
    /// <summary>Validates the location, file and byte range without reading the data (done at load time).</summary>
    public static (string Path, long Offset, long Length) Locate(TensorProto p, string? baseDirectory, long expectedBytes)
    {
        string name = p.Name;
        string? location = null;
        long offset = 0, length = -1;
        foreach (var e in p.ExternalData)
        {
            switch (e.Key)
            {
                case "location": location = e.Value; break;
                case "offset":
                    if (!long.TryParse(e.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset))
                        throw new EdgeException(EdgeCodes.ExternalDataUnreadable, $"Tensor '{name}' has external-data offset '{e.Value}', which is not a non-negative integer.");
                    break;
                case "length":
                    if (!long.TryParse(e.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length))
                        throw new EdgeException(EdgeCodes.ExternalDataUnreadable, $"Tensor '{name}' has external-data length '{e.Value}', which is not a non-negative integer.");
                    break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new EdgeException(EdgeCodes.ExternalDataUnreadable, $"Tensor '{name}' is stored externally but names no 'location'.");
        if (baseDirectory is null)
            throw new EdgeException(EdgeCodes.ExternalDataUnreadable, $"Tensor '{name}' is stored externally ('{location}') but the model was not loaded from a file, so there is no folder to resolve it against.");

        string path = ResolveInside(baseDirectory, location, name);
        if (!File.Exists(path))
            throw new EdgeException(EdgeCodes.ExternalDataUnreadable, $"Tensor '{name}' is stored in external file '{location}', which does not exist next to the model.");
        if (length < 0) length = expectedBytes;
        if (length != expectedBytes)
            throw new EdgeException(EdgeCodes.TensorSizeMismatch, $"Tensor '{name}' needs {expectedBytes} bytes but its external data declares {length}.");
        long fileLength = new FileInfo(path).Length;
        if (offset > fileLength || length > fileLength - offset)
            throw new EdgeException(EdgeCodes.ExternalDataUnreadable, $"Tensor '{name}' reads bytes {offset}..{offset + length} of '{location}', which has only {fileLength} bytes.");
        return (path, offset, length);
    }

    public static ReadOnlyMemory<byte> Read(TensorProto p, string? baseDirectory, long expectedBytes)
    {
        var (path, offset, length) = Locate(p, baseDirectory, expectedBytes);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var buffer = new byte[length];
        fs.Position = offset;
        fs.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>
    /// Every external-data file the model references anywhere (initializers, sparse initializers, tensor attributes,
    /// subgraphs, functions), as full paths confined to <paramref name="baseDirectory"/>, sorted ordinally, distinct.
    /// </summary>
    public static IReadOnlyList<string> ReferencedFiles(ModelProto model, string baseDirectory)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        void Tensor(TensorProto? t)
        {
            if (t is null || (t.DataLocation != 1 && t.ExternalData.Count == 0)) return;
            var location = t.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
            if (!string.IsNullOrEmpty(location)) files.Add(ResolveInside(baseDirectory, location, t.Name));
        }
        void Sparse(SparseTensorProto? s) { if (s is not null) { Tensor(s.Values); Tensor(s.Indices); } }
        void Nodes(IEnumerable<NodeProto> nodes)
        {
            foreach (var n in nodes)
                foreach (var a in n.Attribute) Attribute(a);
        }
        void Attribute(AttributeProto a)
        {
            Tensor(a.T);
            foreach (var t in a.Tensors) Tensor(t);
            Sparse(a.SparseTensor);
            foreach (var s in a.SparseTensors) Sparse(s);
            if (a.G is not null) Graph(a.G);
            foreach (var g in a.Graphs) Graph(g);
        }
        void Graph(GraphProto g)
        {
            foreach (var t in g.Initializer) Tensor(t);
            foreach (var s in g.SparseInitializer) Sparse(s);
            Nodes(g.Node);
        }
        if (model.Graph is not null) Graph(model.Graph);
        foreach (var f in model.Functions)
        {
            Nodes(f.Node);
            foreach (var a in f.AttributeProto) Attribute(a);
        }
        return files.ToList();
    }

    /// <summary>Resolves <paramref name="location"/> against <paramref name="baseDirectory"/>, refusing anything that leaves it.</summary>
    public static string ResolveInside(string baseDirectory, string location, string tensorName)
    {
        static EdgeException Escape(string tensor, string loc, string why) => new(EdgeCodes.ExternalDataOutsideModelFolder,
            $"Tensor '{tensor}' points its external data at '{loc}', which {why}. External data must be a relative path inside the model's folder.");

        if (location.IndexOf('\0') >= 0) throw Escape(tensorName, location, "contains a NUL character");
        if (Path.IsPathRooted(location) || location.StartsWith('/') || location.StartsWith('\\') || (location.Length > 1 && location[1] == ':'))
            throw Escape(tensorName, location, "is an absolute path");
        var parts = location.Split('/', '\\');
        if (parts.Any(s => s == ".."))
            throw Escape(tensorName, location, "climbs out with '..'");

        string root = Path.GetFullPath(baseDirectory);
        string full = Path.GetFullPath(Path.Combine(root, location));
        string rootWithSep = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootWithSep, StringComparison.Ordinal)) throw Escape(tensorName, location, "resolves outside the model's folder");

        // Links: resolve every existing component; the final target must still be inside the (resolved) root.
        string realRoot = RealPath(root);
        string realFull = RealPath(full);
        string realRootSep = realRoot.EndsWith(Path.DirectorySeparatorChar) ? realRoot : realRoot + Path.DirectorySeparatorChar;
        if (!realFull.StartsWith(realRootSep, StringComparison.Ordinal)) throw Escape(tensorName, location, "is (or passes through) a link that leads outside the model's folder");
        return full;
    }

    private static string RealPath(string path)
    {
        // Walk from the root, following links component by component.
        string current = Path.GetPathRoot(path)!;
        foreach (var part in path.Substring(current.Length).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            for (int hops = 0; hops < 40; hops++)
            {
                FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
                if (!info.Exists || info.LinkTarget is null) break;
                next = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, info.LinkTarget));
            }
            current = next;
        }
        return current;
    }
}

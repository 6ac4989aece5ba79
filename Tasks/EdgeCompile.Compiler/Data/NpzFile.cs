using System.IO.Compression;
using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Data;

/// <summary>
/// Reads NumPy <c>.npz</c> archives (<c>np.savez</c>: stored entries; <c>np.savez_compressed</c>: deflated):
/// a zip file with one <c>.npy</c> member per array, named <c>&lt;array&gt;.npy</c>. Arrays come back in archive
/// order, keyed by the member name without <c>.npy</c>. Every problem is <see cref="EdgeCodes.DataFileUnreadable"/>:
/// not a zip, a member that is not <c>.npy</c>, a duplicate name, a malformed member, or a member whose
/// uncompressed size is over the <c>maxBytes</c> limit (a guard against zip bombs, checked while inflating,
/// not only against the size the archive claims).
/// </summary>
public static class NpzFile
{
    /// <summary>Default cap on the total uncompressed size of an archive (2 GiB).</summary>
    public const long DefaultMaxBytes = 2L << 30;

    public static IReadOnlyList<KeyValuePair<string, Tensor>> Load(string path, long maxBytes = DefaultMaxBytes)
    {
        try
        {
            if (!File.Exists(path)) throw new EdgeException(EdgeCodes.DataFileUnreadable, $"Data file '{path}' does not exist.", path);
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return Read(fs, maxBytes);
        }
        catch (EdgeException e) { throw e.WithFile(path); }
    }

    public static IReadOnlyList<KeyValuePair<string, Tensor>> Read(Stream stream, long maxBytes = DefaultMaxBytes)
    {
        static EdgeException Bad(string why, Exception? inner = null) => new(EdgeCodes.DataFileUnreadable, $"Not a valid .npz file: {why}.", inner: inner);
        ZipArchive zip;
        try { zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e) { throw Bad($"not a zip archive ({e.Message})", e); }
        using (zip)
        {
            var result = new List<KeyValuePair<string, Tensor>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/') && entry.Length == 0) continue; // a directory record
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                    throw Bad($"member '{entry.FullName}' is not a .npy array");
                string name = entry.FullName[..^4];
                if (!seen.Add(name)) throw Bad($"array '{name}' appears twice");
                if (entry.Length < 0 || entry.Length > maxBytes - total)
                    throw Bad($"array '{name}' is {entry.Length} bytes uncompressed, over the limit of {maxBytes} bytes for the archive");
                var bytes = new byte[entry.Length];
                try
                {
                    using var s = entry.Open();
                    int read = 0;
                    while (read < bytes.Length)
                    {
                        int n = s.Read(bytes, read, bytes.Length - read);
                        if (n == 0) break;
                        read += n;
                    }
                    // The inflated size must be exactly the declared one: shorter is truncation, longer a lie.
                    if (read != bytes.Length || s.ReadByte() >= 0)
                        throw Bad($"array '{name}' does not inflate to its declared {entry.Length} bytes");
                }
                catch (InvalidDataException e) { throw Bad($"array '{name}' cannot be decompressed ({e.Message})", e); }
                total += bytes.Length;
                Tensor t;
                try { t = NpyFile.Parse(bytes); }
                catch (EdgeException e) { throw new EdgeException(e.Code, $"Array '{name}' of the .npz: {e.Message}", inner: e); }
                result.Add(new(name, t));
            }
            return result;
        }
    }
}

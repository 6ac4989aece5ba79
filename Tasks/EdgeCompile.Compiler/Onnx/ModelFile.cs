using System.Buffers;
using System.IO.MemoryMappedFiles;
using EdgeCompile.Compiler.Diagnostics;
using EdgeCompile.Compiler.IR;

namespace EdgeCompile.Compiler.Onnx;

/// <summary>
/// Loads <c>.onnx</c> files. The file is memory-mapped read-only and initializers keep slices of the
/// mapping, so a several-hundred-MB model costs about its size in memory (pages are shared with the
/// OS file cache), and nothing is copied until a constant's values are needed.
/// </summary>
public static class ModelFile
{
    public static Model Load(string path, ReaderLimits? limits = null)
    {
        limits ??= ReaderLimits.Default;
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new EdgeException(EdgeCodes.FileNotFound, $"Model file '{path}' does not exist.", path);
        try
        {
            var length = new FileInfo(full).Length;
            if (length > limits.MaxFileBytes)
                throw new EdgeException(EdgeCodes.LimitExceeded, $"Model file is {length} bytes, over the limit of {limits.MaxFileBytes} bytes (protobuf cannot exceed 2 GiB; store weights as external data).", path);
            MappedMemory? mapped = length == 0 ? null : MappedMemory.Open(full, length);
            try
            {
                var memory = mapped?.Memory ?? ReadOnlyMemory<byte>.Empty;
                var proto = OnnxReader.ParseModel(memory, limits);
                var model = OnnxImporter.Import(proto, Path.GetDirectoryName(full), limits);
                model.SourcePath = path;
                model.ExternalDataFiles = ExternalData.ReferencedFiles(proto, Path.GetDirectoryName(full)!);
                model.Backing = mapped;
                return model;
            }
            catch
            {
                ((IDisposable?)mapped)?.Dispose();
                throw;
            }
        }
        catch (EdgeException e)
        {
            throw e.WithFile(path);
        }
        catch (IOException e)
        {
            throw new EdgeException(EdgeCodes.FileNotFound, $"Model file could not be read: {e.Message}", path, inner: e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new EdgeException(EdgeCodes.FileNotFound, $"Model file could not be read: {e.Message}", path, inner: e);
        }
    }

    /// <summary>Parses a model from bytes in memory (external data, if any, resolves against <paramref name="baseDirectory"/>).</summary>
    public static Model Parse(ReadOnlyMemory<byte> bytes, string? baseDirectory = null, ReaderLimits? limits = null)
    {
        limits ??= ReaderLimits.Default;
        var proto = OnnxReader.ParseModel(bytes, limits);
        return OnnxImporter.Import(proto, baseDirectory, limits);
    }

    /// <summary>Reads a serialized TensorProto file (the ONNX test data format: input_0.pb ...).</summary>
    public static Tensor LoadTensor(string path)
    {
        try
        {
            var proto = OnnxReader.ParseTensor(File.ReadAllBytes(path));
            return TensorDecoder.Decode(proto, Path.GetDirectoryName(Path.GetFullPath(path)));
        }
        catch (EdgeException e) { throw e.WithFile(path); }
    }

    /// <summary>A read-only memory mapping exposed as <see cref="ReadOnlyMemory{T}"/>.</summary>
    internal sealed unsafe class MappedMemory : MemoryManager<byte>
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _pointer;
        private readonly int _length;

        private MappedMemory(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* pointer, int length)
        {
            _file = file; _view = view; _pointer = pointer; _length = length;
        }

        public static MappedMemory Open(string path, long length)
        {
            var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
            var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedMemory(file, view, p + view.PointerOffset, checked((int)length));
        }

        private int _disposed;

        public override Span<byte> GetSpan()
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return new(_pointer, _length);
        }

        // No finalizer (CA2015: a span could outlive it); the mapping lives until Model.Dispose or process exit.
        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);
        public override void Unpin() { }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}

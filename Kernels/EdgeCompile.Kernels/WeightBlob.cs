using System.Reflection;
using System.Runtime.InteropServices;

namespace EdgeCompile.Kernels;

/// <summary>
/// The constant tensors of one compiled model, embedded in the consumer assembly and read through their
/// pointer: they are never copied into managed arrays. A generated class creates one in a static field
/// and slices it with <see cref="Get{T}"/> for every kernel call.
/// </summary>
public sealed unsafe class WeightBlob
{
    private readonly byte* _data;
    // Keeps the resource stream (and so the mapped assembly image it points into) reachable for as long as the blob.
    private readonly Stream? _owner;

    private WeightBlob(byte* data, int length, Stream? owner)
    {
        _data = data;
        Length = length;
        _owner = owner;
    }

    /// <summary>The blob's size in bytes.</summary>
    public int Length { get; }

    /// <summary>
    /// Opens the embedded resource <paramref name="name"/> of <paramref name="assembly"/>. An embedded resource is
    /// an <see cref="UnmanagedMemoryStream"/> over the loaded image, so the blob points straight into it (zero copy);
    /// any other stream is copied once into 64-byte-aligned native memory that lives for the process.
    /// </summary>
    /// <exception cref="InvalidOperationException">The assembly has no such resource.</exception>
    public static WeightBlob FromResource(Assembly assembly, string name)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(name);
        Stream stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException(
                $"The weights resource '{name}' is not embedded in assembly '{assembly.GetName().Name}'. " +
                "The EdgeCompile build step embeds it next to the generated model class; make sure the project " +
                "references the EdgeCompile package and the <EdgeModel> item was compiled.");
        if (stream.Length > int.MaxValue)
            throw new InvalidOperationException($"The weights resource '{name}' is {stream.Length} bytes; blobs are limited to 2 GB.");
        if (stream is UnmanagedMemoryStream ums)
        {
            var image = new ReadOnlySpan<byte>(ums.PositionPointer, (int)ums.Length);
            // Sparse (magnitude-pruned) weights are stored compressed: decode them once into dense memory.
            if (WeightCompression.IsCompressed(image)) return Decoded(image);
            return new WeightBlob(ums.PositionPointer, (int)ums.Length, ums);
        }
        int length = (int)stream.Length;
        byte* copy = AllocateAligned(length);
        var target = new Span<byte>(copy, length);
        int read = 0;
        while (read < length)
        {
            int r = stream.Read(target.Slice(read));
            if (r == 0) throw new InvalidOperationException($"The weights resource '{name}' ended after {read} of {length} bytes.");
            read += r;
        }
        stream.Dispose();
        var copied = new ReadOnlySpan<byte>(copy, length);
        if (!WeightCompression.IsCompressed(copied)) return new WeightBlob(copy, length, null);
        var decoded = Decoded(copied);
        NativeMemory.AlignedFree(copy);
        return decoded;
    }

    private static WeightBlob Decoded(ReadOnlySpan<byte> stored)
    {
        int length = WeightCompression.DecodedLength(stored);
        byte* dense = AllocateAligned(length);
        WeightCompression.Decode(stored, new Span<byte>(dense, length));
        return new WeightBlob(dense, length, null);
    }

    /// <summary>
    /// A blob over a copy of <paramref name="bytes"/> (decoded when they are in the <see cref="WeightCompression"/> form) in 64-byte-aligned native memory that is never freed
    /// (like a model's weights, it lives for the process). For tests and for weights loaded from elsewhere.
    /// </summary>
    public static WeightBlob FromMemory(ReadOnlyMemory<byte> bytes)
    {
        if (WeightCompression.IsCompressed(bytes.Span)) return Decoded(bytes.Span);
        byte* copy = AllocateAligned(bytes.Length);
        bytes.Span.CopyTo(new Span<byte>(copy, bytes.Length));
        return new WeightBlob(copy, bytes.Length, null);
    }

    /// <summary>The <paramref name="count"/> elements of type <typeparamref name="T"/> starting <paramref name="byteOffset"/> bytes in.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the blob.</exception>
    public ReadOnlySpan<T> Get<T>(int byteOffset, int count) where T : unmanaged
    {
        if (byteOffset < 0 || count < 0 || byteOffset + (long)count * sizeof(T) > Length)
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"Weights [{byteOffset}, +{count} x {sizeof(T)} bytes) are outside the {Length}-byte blob.");
        GC.KeepAlive(_owner);
        return new ReadOnlySpan<T>(_data + byteOffset, count);
    }

    private static byte* AllocateAligned(int length) => (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), 64);
}

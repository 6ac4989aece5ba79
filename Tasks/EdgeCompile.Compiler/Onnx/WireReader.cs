using System.Buffers.Binary;
using EdgeCompile.Compiler.Diagnostics;

namespace EdgeCompile.Compiler.Onnx;

/// <summary>Protobuf wire types (protobuf encoding spec).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A small protobuf wire-format reader over a memory block. We read ONNX ourselves instead of through
/// Google.Protobuf's generated-message path because tensor payloads must stay slices of the
/// (memory-mapped) file: <see cref="ReadSlice"/> returns the bytes without copying them.
/// Every read is bounds-checked and reports <see cref="EdgeCodes.MalformedProtobuf"/> with the offset.
/// </summary>
internal struct WireReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private int _pos;
    private readonly int _end;

    public WireReader(ReadOnlyMemory<byte> memory, int start, int end)
    {
        _memory = memory;
        _pos = start;
        _end = end;
    }

    public WireReader(ReadOnlyMemory<byte> memory) : this(memory, 0, memory.Length) { }

    public readonly bool AtEnd => _pos >= _end;
    /// <summary>The bytes from the current position to the end of this (sub)message, without copying.</summary>
    public readonly ReadOnlyMemory<byte> Remaining => _memory.Slice(_pos, _end - _pos);
    public readonly int Position => _pos;

    private static EdgeException Malformed(string what, int offset) =>
        new(EdgeCodes.MalformedProtobuf, $"The file is not a valid ONNX protobuf: {what} at byte offset {offset}. The file may be truncated or corrupted; re-export the model.");

    /// <summary>Reads a field key; returns the field number and wire type.</summary>
    public (int Field, WireType Type) ReadTag()
    {
        int at = _pos;
        ulong key = ReadVarint();
        int field = (int)(key >> 3);
        var type = (WireType)(key & 7);
        if (key >> 3 == 0 || key >> 3 > 536870911) throw Malformed($"invalid field number {key >> 3}", at);
        if ((int)type > 5) throw Malformed($"invalid wire type {(int)type}", at);
        return (field, type);
    }

    public ulong ReadVarint()
    {
        var span = _memory.Span;
        ulong result = 0;
        int shift = 0;
        int at = _pos;
        while (true)
        {
            if (_pos >= _end) throw Malformed("truncated varint", at);
            byte b = span[_pos++];
            if (shift == 63 && b > 1) throw Malformed("varint longer than 64 bits", at);
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
            shift += 7;
            if (shift > 63) throw Malformed("varint longer than 10 bytes", at);
        }
    }

    public long ReadInt64() => (long)ReadVarint();

    /// <summary>int32 fields are sign-extended varints on the wire; truncation to 32 bits is the protobuf rule.</summary>
    public int ReadInt32() => (int)ReadVarint();

    public uint ReadFixed32()
    {
        if (_end - _pos < 4) throw Malformed("truncated fixed32", _pos);
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(_memory.Span.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        if (_end - _pos < 8) throw Malformed("truncated fixed64", _pos);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_memory.Span.Slice(_pos, 8));
        _pos += 8;
        return v;
    }

    public float ReadFloat() => BitConverter.Int32BitsToSingle((int)ReadFixed32());
    public double ReadDouble() => BitConverter.Int64BitsToDouble((long)ReadFixed64());

    /// <summary>Reads a length prefix and checks it against the remaining bytes.</summary>
    public int ReadLength()
    {
        int at = _pos;
        ulong len = ReadVarint();
        if (len > (ulong)(_end - _pos)) throw Malformed($"length {len} points past the end of its message ({_end - _pos} bytes left)", at);
        return (int)len;
    }

    /// <summary>The bytes of a length-delimited field, as a slice of the source (no copy).</summary>
    public ReadOnlyMemory<byte> ReadSlice()
    {
        int len = ReadLength();
        var slice = _memory.Slice(_pos, len);
        _pos += len;
        return slice;
    }

    /// <summary>A reader over the bytes of a length-delimited (embedded message) field.</summary>
    public WireReader ReadSubMessage()
    {
        int len = ReadLength();
        var sub = new WireReader(_memory, _pos, _pos + len);
        _pos += len;
        return sub;
    }

    public string ReadString()
    {
        int len = ReadLength();
        string s = System.Text.Encoding.UTF8.GetString(_memory.Span.Slice(_pos, len));
        _pos += len;
        return s;
    }

    public void Expect(WireType actual, WireType expected, string field)
    {
        if (actual != expected) throw Malformed($"field '{field}' has wire type {actual}, expected {expected}", _pos);
    }

    /// <summary>Skips a field we do not model (unknown or reserved), as protobuf requires.</summary>
    public void Skip(WireType type, int depth = 0)
    {
        switch (type)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: if (_end - _pos < 8) throw Malformed("truncated fixed64", _pos); _pos += 8; break;
            case WireType.Fixed32: if (_end - _pos < 4) throw Malformed("truncated fixed32", _pos); _pos += 4; break;
            case WireType.LengthDelimited: _pos += ReadLength(); break;
            case WireType.StartGroup:
                if (depth > 32) throw Malformed("groups nested too deeply", _pos);
                while (true)
                {
                    if (AtEnd) throw Malformed("unterminated group", _pos);
                    var (_, t) = ReadTag();
                    if (t == WireType.EndGroup) break;
                    Skip(t, depth + 1);
                }
                break;
            case WireType.EndGroup: throw Malformed("unexpected end-group", _pos);
            default: throw Malformed($"invalid wire type {(int)type}", _pos);
        }
    }

    // Repeated scalar fields may arrive packed (one length-delimited run) or unpacked (one per tag);
    // protobuf parsers must accept both.

    public void ReadInt64s(WireType type, List<long> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var sub = ReadSubMessage();
            while (!sub.AtEnd) into.Add(sub.ReadInt64());
        }
        else { Expect(type, WireType.Varint, "int64 list"); into.Add(ReadInt64()); }
    }

    public void ReadInt32s(WireType type, List<int> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var sub = ReadSubMessage();
            while (!sub.AtEnd) into.Add(sub.ReadInt32());
        }
        else { Expect(type, WireType.Varint, "int32 list"); into.Add(ReadInt32()); }
    }

    public void ReadUInt64s(WireType type, List<ulong> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var sub = ReadSubMessage();
            while (!sub.AtEnd) into.Add(sub.ReadVarint());
        }
        else { Expect(type, WireType.Varint, "uint64 list"); into.Add(ReadVarint()); }
    }

    public void ReadFloats(WireType type, List<float> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var sub = ReadSubMessage();
            while (!sub.AtEnd) into.Add(sub.ReadFloat());
        }
        else { Expect(type, WireType.Fixed32, "float list"); into.Add(ReadFloat()); }
    }

    public void ReadDoubles(WireType type, List<double> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var sub = ReadSubMessage();
            while (!sub.AtEnd) into.Add(sub.ReadDouble());
        }
        else { Expect(type, WireType.Fixed64, "double list"); into.Add(ReadDouble()); }
    }
}

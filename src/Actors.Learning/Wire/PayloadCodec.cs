using System.Buffers.Binary;
using System.Runtime.Serialization;
using Actors.Learning.Compression;
using TorchSharp;

namespace Actors.Learning.Wire;

/// <summary>
/// The wire format of a tensor payload (layout in <see cref="TensorPayload"/>): encoding a compressed tensor to bytes,
/// parsing and bounding the header of received bytes, and exact sizes. Stateless; <see cref="TensorPayload"/> is the
/// value built on top, with its native lifetime.
/// </summary>
public static class PayloadCodec
{
    /// <summary>Exact size of the payload <see cref="FromCompressed"/> would build, without building it.</summary>
    public static int SizeOf(CompressedTensor compressed)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        long size = HeaderSize(compressed.Shape.Length, compressed.Scalars.Length);
        foreach (var p in compressed.Parts)
            size += PayloadFormat.FixedPartHeaderBytes + 8L * p.dim() + p.numel() * PayloadFormat.ElementSize(p.dtype);
        return checked((int)size);
    }

    /// <summary>Size of the same vector sent uncompressed (codec `none`): the `bytes_uplink_uncompressed` figure.</summary>
    public static int UncompressedSizeBytes(long numel, torch.ScalarType dtype = torch.ScalarType.Float32) =>
        checked((int)(HeaderSize(1, 0) + PayloadFormat.FixedPartHeaderBytes + 8 + numel * PayloadFormat.ElementSize(dtype)));

    /// <summary>The wire bytes of a compressed tensor (one copy of each part's bytes) and where each part sits. Does not take ownership.</summary>
    public static (byte[] Buffer, PayloadPart[] Parts) Write(CompressedTensor compressed)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        if (compressed.Shape.Length > PayloadFormat.MaxRank) throw new ArgumentException($"rank {compressed.Shape.Length} > {PayloadFormat.MaxRank}", nameof(compressed));
        if (compressed.Scalars.Length > PayloadFormat.MaxScalars) throw new ArgumentException($"{compressed.Scalars.Length} scalars > {PayloadFormat.MaxScalars}", nameof(compressed));
        if (compressed.Parts.Count > PayloadFormat.MaxParts) throw new ArgumentException($"{compressed.Parts.Count} parts > {PayloadFormat.MaxParts}", nameof(compressed));
        byte codec = PayloadFormat.CodecId(compressed.Codec);
        byte dtype = PayloadFormat.DTypeId(compressed.DType);
        var buffer = GC.AllocateUninitializedArray<byte>(SizeOf(compressed));
        var span = buffer.AsSpan();
        span[0] = PayloadFormat.Version;
        span[1] = codec;
        span[2] = dtype;
        span[3] = (byte)compressed.Shape.Length;
        span[4] = (byte)compressed.Scalars.Length;
        span[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)compressed.Parts.Count);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], compressed.Seed);
        int pos = PayloadFormat.FixedHeaderBytes;
        foreach (var dim in compressed.Shape) { BinaryPrimitives.WriteInt64LittleEndian(span[pos..], dim); pos += 8; }
        foreach (var s in compressed.Scalars) { BinaryPrimitives.WriteDoubleLittleEndian(span[pos..], s); pos += 8; }
        var parts = new PayloadPart[compressed.Parts.Count];
        int dataPos = pos;
        foreach (var p in compressed.Parts)
        {
            if (p.dim() > PayloadFormat.MaxPartRank) throw new ArgumentException($"part rank {p.dim()} > {PayloadFormat.MaxPartRank}", nameof(compressed));
            dataPos += PayloadFormat.FixedPartHeaderBytes + 8 * (int)p.dim();
        }
        for (int i = 0; i < parts.Length; i++)
        {
            var p = compressed.Parts[i];
            span[pos] = PayloadFormat.DTypeId(p.dtype);
            span[pos + 1] = (byte)p.dim();
            pos += 2;
            foreach (var dim in p.shape) { BinaryPrimitives.WriteInt64LittleEndian(span[pos..], dim); pos += 8; }
            int length = checked((int)(p.numel() * PayloadFormat.ElementSize(p.dtype)));
            BinaryPrimitives.WriteInt64LittleEndian(span[pos..], length);
            pos += 8;
            CopyOut(p, span.Slice(dataPos, length));
            parts[i] = new PayloadPart(p.dtype, p.shape, dataPos, length);
            dataPos += length;
        }
        return (buffer, parts);
    }

    internal static long HeaderSize(int rank, int scalars) => PayloadFormat.FixedHeaderBytes + 8L * rank + 8L * scalars;

    private static void CopyOut(torch.Tensor t, Span<byte> destination)
    {
        if (destination.Length == 0) return;
        if (t.device_type == DeviceType.CPU && t.is_contiguous())
        {
            t.bytes.CopyTo(destination);
            return;
        }
        using var c = t.cpu().contiguous();
        c.bytes.CopyTo(destination);
    }

    /// <summary>Parses the header and part table of wire bytes (the codec's own rules are checked by the caller).</summary>
    public static (string Codec, torch.ScalarType DType, long[] Shape, long Seed, double[] Scalars, PayloadPart[] Parts) Read(byte[] bytes, long maxElements)
    {
        if (bytes is null) throw Malformed("null buffer");
        var span = bytes.AsSpan();
        if (span.Length < PayloadFormat.FixedHeaderBytes) throw Malformed($"{span.Length} bytes is shorter than the {PayloadFormat.FixedHeaderBytes}-byte header");
        if (span[0] != PayloadFormat.Version) throw Malformed($"unknown version {span[0]} (this build reads {PayloadFormat.Version})");
        if (!PayloadFormat.TryCodecName(span[1], out var codec)) throw Malformed($"unknown codec id {span[1]}");
        if (!PayloadFormat.TryDType(span[2], out var dtype)) throw Malformed($"unknown dtype id {span[2]}");
        if (dtype != torch.ScalarType.Float32 && dtype != torch.ScalarType.Float64) throw Malformed($"a payload decompresses to float32 or float64, not {dtype}");
        int rank = span[3], scalarCount = span[4];
        if (rank > PayloadFormat.MaxRank) throw Malformed($"rank {rank} > {PayloadFormat.MaxRank}");
        if (scalarCount > PayloadFormat.MaxScalars) throw Malformed($"{scalarCount} scalars > {PayloadFormat.MaxScalars}");
        if (span[5] != 0) throw Malformed("reserved header byte is not 0");
        int partCount = BinaryPrimitives.ReadUInt16LittleEndian(span[6..]);
        if (partCount > PayloadFormat.MaxParts) throw Malformed($"{partCount} parts > {PayloadFormat.MaxParts}");
        long seed = BinaryPrimitives.ReadInt64LittleEndian(span[8..]);
        int pos = PayloadFormat.FixedHeaderBytes;
        var shape = ReadDims(span, ref pos, rank, maxElements, "shape");
        Need(span, pos, 8L * scalarCount, "scalars");
        var scalars = new double[scalarCount];
        for (int i = 0; i < scalarCount; i++, pos += 8)
        {
            scalars[i] = BinaryPrimitives.ReadDoubleLittleEndian(span[pos..]);
            if (!double.IsFinite(scalars[i])) throw Malformed($"scalar {i} is not finite");
        }
        var headers = new (torch.ScalarType DType, long[] Shape, long Length)[partCount];
        long dataBytes = 0;
        for (int i = 0; i < partCount; i++)
        {
            Need(span, pos, 2, $"part {i} header");
            if (!PayloadFormat.TryDType(span[pos], out var partType)) throw Malformed($"part {i}: unknown dtype id {span[pos]}");
            int partRank = span[pos + 1];
            pos += 2;
            if (partRank > PayloadFormat.MaxPartRank) throw Malformed($"part {i}: rank {partRank} > {PayloadFormat.MaxPartRank}");
            var partShape = ReadDims(span, ref pos, partRank, PayloadFormat.MaxElements, $"part {i} shape");
            Need(span, pos, 8, $"part {i} length");
            long length = BinaryPrimitives.ReadInt64LittleEndian(span[pos..]);
            pos += 8;
            long expected = partShape.Aggregate(1L, (a, b) => a * b) * PayloadFormat.ElementSize(partType);
            if (length != expected) throw Malformed($"part {i}: length {length} does not match its shape and dtype ({expected} bytes)");
            if (length > span.Length) throw Malformed($"part {i}: length {length} exceeds the buffer");
            dataBytes += length;
            headers[i] = (partType, partShape, length);
        }
        if (pos + dataBytes != span.Length)
            throw Malformed($"buffer has {span.Length} bytes; the header announces {pos + dataBytes}");
        var parts = new PayloadPart[partCount];
        for (int i = 0; i < partCount; i++)
        {
            parts[i] = new PayloadPart(headers[i].DType, headers[i].Shape, pos, (int)headers[i].Length);
            pos += (int)headers[i].Length;
        }
        return (codec, dtype, shape, seed, scalars, parts);
    }

    private static long[] ReadDims(ReadOnlySpan<byte> span, ref int pos, int rank, long maxElements, string what)
    {
        Need(span, pos, 8L * rank, what);
        var dims = new long[rank];
        long product = 1;
        for (int i = 0; i < rank; i++, pos += 8)
        {
            long dim = BinaryPrimitives.ReadInt64LittleEndian(span[pos..]);
            if (dim < 0 || dim > maxElements) throw Malformed($"{what}: dimension {dim} out of [0, {maxElements}]");
            dims[i] = dim;
            if (dim != 0 && product > maxElements / dim) product = maxElements + 1;
            else product *= dim;
        }
        if (product > maxElements) throw Malformed($"{what}: more than {maxElements} elements");
        return dims;
    }

    private static void Need(ReadOnlySpan<byte> span, int pos, long count, string what)
    {
        if (pos + count > span.Length) throw Malformed($"buffer ends inside the {what}");
    }

    private static SerializationException Malformed(string why) => PayloadChecks.Malformed(why);
}

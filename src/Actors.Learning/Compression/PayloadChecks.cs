using System.Buffers.Binary;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>One tensor inside a payload: its dtype, shape and where its raw little-endian bytes sit in the buffer.</summary>
public sealed record PayloadPart(torch.ScalarType DType, long[] Shape, int Offset, int Length)
{
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>What a codec's payload check reads of a decoded message (the wire format's view of it).</summary>
public interface IPayloadView
{
    string Codec { get; }
    torch.ScalarType DType { get; }
    IReadOnlyList<double> Scalars { get; }
    IReadOnlyList<PayloadPart> Parts { get; }
    ReadOnlySpan<byte> PartBytes(int index);
}

/// <summary>
/// What each codec's parts must look like, checked on decode so that a payload that passes can always be turned back
/// into tensors and decompressed (no index out of range, no length that disagrees with the shape). Each codec's
/// descriptor in <see cref="Codecs"/> names its check; the finiteness check of values is shared.
/// </summary>
public static class PayloadChecks
{
    public static void Identity(IPayloadView p, long numel)
    {
        Expect(p, parts: 1, scalars: 0);
        Values(p, 0, numel, exact: true);
    }

    public static void TopK(IPayloadView p, long numel)
    {
        Expect(p, parts: 2, scalars: 0);
        long k = Values(p, 0, numel, exact: false);
        var idx = p.Parts[1];
        if (idx.Shape.Length != 1 || idx.Numel != k) throw Bad(p, "indices must be 1-D with one index per value");
        if (idx.DType == torch.ScalarType.Int32) CheckIndices32(p.PartBytes(1), numel, p);
        else if (idx.DType == torch.ScalarType.Int64) CheckIndices64(p.PartBytes(1), numel, p);
        else throw Bad(p, $"indices must be int32 or int64, not {idx.DType}");
    }

    /// <summary>`sparse`: a 1-D byte mask of ceil(d / 8) bytes with zero padding bits, and exactly one value per set bit.</summary>
    public static void MaskedSparse(IPayloadView p, long numel)
    {
        Expect(p, parts: 2, scalars: 0);
        long values = Values(p, 0, numel, exact: false);
        var mask = p.Parts[1];
        if (mask.DType != torch.ScalarType.Byte || mask.Shape.Length != 1 || mask.Numel != (numel + 7) / 8)
            throw Bad(p, $"the mask must be 1-D uint8 of {(numel + 7) / 8} bytes");
        var bytes = p.PartBytes(1);
        long set = 0;
        foreach (var b in bytes) set += System.Numerics.BitOperations.PopCount(b);
        int tail = (int)(numel % 8);
        if (tail != 0 && bytes.Length > 0 && (bytes[^1] >> tail) != 0) throw Bad(p, "mask bits set past the end of the tensor");
        if (set != values) throw Bad(p, $"the mask marks {set} values, {values} were sent");
    }

    public static void RandK(IPayloadView p, long numel)
    {
        Expect(p, parts: 1, scalars: 0);
        Values(p, 0, numel, exact: false);
    }

    public static void ScaledSign(IPayloadView p, long numel)
    {
        Expect(p, parts: 1, scalars: 1);
        if (p.Scalars[0] < 0) throw Bad(p, "scale must be >= 0");
        Representable(p, p.Scalars[0], "scale");
        var bits = p.Parts[0];
        if (bits.DType != torch.ScalarType.Byte || bits.Shape.Length != 1 || bits.Numel != (numel + 7) / 8)
            throw Bad(p, $"signs must be 1-D uint8 of {(numel + 7) / 8} bytes");
    }

    /// <summary>Unless NaN/Inf values are allowed (the receiver counts them as non-finite updates instead), every float part must be finite.</summary>
    public static void Finite(IPayloadView p)
    {
        ArgumentNullException.ThrowIfNull(p);
        for (int i = 0; i < p.Parts.Count; i++) CheckFinite(p, i);
    }

    internal static System.Runtime.Serialization.SerializationException Malformed(string why) => new($"malformed tensor payload: {why}");

    /// <summary>A scalar that becomes a value must fit the payload dtype (1e300 is finite but not a float32).</summary>
    private static void Representable(IPayloadView p, double value, string what)
    {
        if (p.DType == torch.ScalarType.Float32 && Math.Abs(value) > float.MaxValue)
            throw Bad(p, $"{what} {value:G3} does not fit in float32");
    }

    private static void Expect(IPayloadView p, int parts, int scalars)
    {
        if (p.Parts.Count != parts) throw Bad(p, $"expected {parts} part(s), got {p.Parts.Count}");
        if (p.Scalars.Count != scalars) throw Bad(p, $"expected {scalars} scalar(s), got {p.Scalars.Count}");
    }

    /// <summary>A 1-D values part in the payload dtype; returns its length.</summary>
    private static long Values(IPayloadView p, int index, long numel, bool exact)
    {
        var part = p.Parts[index];
        if (part.DType != p.DType) throw Bad(p, $"values are {part.DType}, the payload says {p.DType}");
        if (part.Shape.Length != 1) throw Bad(p, "values must be 1-D");
        if (exact ? part.Numel != numel : part.Numel > numel)
            throw Bad(p, $"{part.Numel} values for a tensor of {numel}");
        return part.Numel;
    }

    private static void CheckIndices32(ReadOnlySpan<byte> bytes, long numel, IPayloadView p)
    {
        for (int i = 0; i < bytes.Length; i += 4)
        {
            int v = BinaryPrimitives.ReadInt32LittleEndian(bytes[i..]);
            if (v < 0 || v >= numel) throw Bad(p, $"index {v} out of [0, {numel})");
        }
    }

    private static void CheckIndices64(ReadOnlySpan<byte> bytes, long numel, IPayloadView p)
    {
        for (int i = 0; i < bytes.Length; i += 8)
        {
            long v = BinaryPrimitives.ReadInt64LittleEndian(bytes[i..]);
            if (v < 0 || v >= numel) throw Bad(p, $"index {v} out of [0, {numel})");
        }
    }

    public static void RandomBlock(IPayloadView p, long numel)
    {
        Expect(p, parts: 2, scalars: 0);
        long values = Values(p, 0, numel, exact: false);
        var seg = p.Parts[1];
        if (seg.DType != torch.ScalarType.Int64 || seg.Shape.Length != 1 || seg.Numel % 2 != 0)
            throw Bad(p, "segments must be 1-D int64 (size, kept) pairs");
        var bytes = p.PartBytes(1);
        long sizes = 0, kept = 0;
        for (int i = 0; i < bytes.Length; i += 16)
        {
            long d = BinaryPrimitives.ReadInt64LittleEndian(bytes[i..]);
            long k = BinaryPrimitives.ReadInt64LittleEndian(bytes[(i + 8)..]);
            if (d < 0 || k < 0 || k > d || d > numel) throw Bad(p, $"segment ({d}, {k}) is not 0 <= kept <= size <= {numel}");
            sizes += d;
            kept += k;
            if (sizes > numel) throw Bad(p, "segments cover more than the tensor");
        }
        if (sizes != numel) throw Bad(p, $"segments cover {sizes} values of {numel}");
        if (kept != values) throw Bad(p, $"segments keep {kept} values, {values} were sent");
    }

    public static void Qsgd(IPayloadView p, long numel)
    {
        Expect(p, parts: 1, scalars: 2);
        double norm = p.Scalars[0], s = p.Scalars[1];
        if (norm < 0) throw Bad(p, "norm must be >= 0");
        Representable(p, norm, "norm");
        if (s < 1 || s > Compression.Qsgd.MaxLevels || s != Math.Floor(s)) throw Bad(p, $"levels {s} is not an integer in [1, {Compression.Qsgd.MaxLevels}]");
        var q = p.Parts[0];
        if (q.Shape.Length != 1 || q.Numel != numel) throw Bad(p, $"expected {numel} levels");
        var bytes = p.PartBytes(0);
        if (q.DType == torch.ScalarType.Int8)
        {
            if (s > sbyte.MaxValue) throw Bad(p, "int8 levels cannot hold s > 127");
            foreach (var b in bytes)
                if (Math.Abs((int)(sbyte)b) > s) throw Bad(p, "a level exceeds s");
        }
        else if (q.DType == torch.ScalarType.Int16)
        {
            for (int i = 0; i < bytes.Length; i += 2)
                if (Math.Abs((int)BinaryPrimitives.ReadInt16LittleEndian(bytes[i..])) > s) throw Bad(p, "a level exceeds s");
        }
        else
        {
            throw Bad(p, $"levels must be int8 or int16, not {q.DType}");
        }
    }

    public static void PowerSgd(IPayloadView p, long numel)
    {
        if (p.Scalars.Count != 0) throw Bad(p, "expected no scalars");
        long covered = 0;
        for (int i = 0; i < p.Parts.Count; i++)
        {
            var part = p.Parts[i];
            if (part.DType != p.DType) throw Bad(p, $"part {i} is {part.DType}, the payload says {p.DType}");
            if (part.Shape.Length == 1)
            {
                covered += part.Numel;
            }
            else if (part.Shape.Length == 2)
            {
                if (i + 1 >= p.Parts.Count) throw Bad(p, $"factor P (part {i}) has no Q");
                var q = p.Parts[i + 1];
                if (q.DType != p.DType || q.Shape.Length != 2) throw Bad(p, $"part {i + 1} must be the Q factor");
                long n = part.Shape[0], m = q.Shape[0], r = part.Shape[1];
                if (r < 1 || q.Shape[1] != r) throw Bad(p, $"factors [{n}, {r}] and [{m}, {q.Shape[1]}] do not share a rank >= 1");
                if (n != 0 && m > numel / n) throw Bad(p, "factors describe more values than the tensor");
                covered += n * m;
                i++;
            }
            else
            {
                throw Bad(p, $"part {i} must be 1-D (raw) or 2-D (a factor)");
            }
            if (covered > numel) throw Bad(p, "parts describe more values than the tensor");
        }
        if (covered != numel) throw Bad(p, $"parts describe {covered} values of {numel}");
    }

    private static void CheckFinite(IPayloadView p, int index)
    {
        var bytes = p.PartBytes(index);
        if (p.Parts[index].DType == torch.ScalarType.Float32)
        {
            for (int i = 0; i < bytes.Length; i += 4)
                if (!float.IsFinite(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]))) throw Bad(p, $"part {index} has a non-finite value");
        }
        else if (p.Parts[index].DType == torch.ScalarType.Float64)
        {
            for (int i = 0; i < bytes.Length; i += 8)
                if (!double.IsFinite(BinaryPrimitives.ReadDoubleLittleEndian(bytes[i..]))) throw Bad(p, $"part {index} has a non-finite value");
        }
    }

    private static System.Runtime.Serialization.SerializationException Bad(IPayloadView p, string why) => Malformed($"{p.Codec}: {why}");
}

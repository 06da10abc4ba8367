using Actors.Learning.Compression;
using TorchSharp;

namespace Actors.Learning.Wire;

/// <summary>The wire format's constants and the stable numeric ids of dtypes (never reorder: append); codec ids are in <see cref="Codecs"/>.</summary>
public static class PayloadFormat
{
    public const byte Version = 1;

    /// <summary>Fixed header: version u8, codec u8, dtype u8, rank u8, scalar count u8, reserved u8 (0), part count u16, seed i64.</summary>
    public const int FixedHeaderBytes = 16;

    /// <summary>Per part: dtype u8, rank u8, then rank dims (i64) and the byte length (i64).</summary>
    public const int FixedPartHeaderBytes = 2 + 8;

    public const int MaxRank = 8;
    public const int MaxPartRank = 4;
    public const int MaxScalars = 8;
    public const int MaxParts = 4096;

    /// <summary>Largest element count of any tensor (and of the decompressed vector).</summary>
    public const long MaxElements = int.MaxValue;

    private static readonly torch.ScalarType[] DTypes =
    [
        torch.ScalarType.Float32, torch.ScalarType.Float64, torch.ScalarType.Int8, torch.ScalarType.Byte,
        torch.ScalarType.Int16, torch.ScalarType.Int32, torch.ScalarType.Int64,
    ];

    /// <summary>The codec's wire id (<see cref="Codecs"/>).</summary>
    public static byte CodecId(string codec) => Codecs.Get(codec).WireId;

    public static bool TryCodecName(byte id, out string name)
    {
        name = Codecs.TryGet(id, out var codec) ? codec.Name : "";
        return name.Length > 0;
    }

    public static byte DTypeId(torch.ScalarType dtype)
    {
        int i = Array.IndexOf(DTypes, dtype);
        return i >= 0 ? (byte)(i + 1) : throw new ArgumentException($"dtype {dtype} cannot go on the wire", nameof(dtype));
    }

    public static bool TryDType(byte id, out torch.ScalarType dtype)
    {
        bool ok = id >= 1 && id <= DTypes.Length;
        dtype = ok ? DTypes[id - 1] : torch.ScalarType.Float32;
        return ok;
    }

    public static int ElementSize(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float64 or torch.ScalarType.Int64 => 8,
        torch.ScalarType.Float32 or torch.ScalarType.Int32 => 4,
        torch.ScalarType.Int16 => 2,
        torch.ScalarType.Int8 or torch.ScalarType.Byte => 1,
        _ => throw new ArgumentException($"dtype {dtype} cannot go on the wire", nameof(dtype)),
    };
}

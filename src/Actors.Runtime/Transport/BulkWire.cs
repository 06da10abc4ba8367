using System.Buffers.Binary;

namespace Actors.Runtime.Transport;

/// <summary>Status byte the listener writes back after each transfer.</summary>
public enum BulkStatus : byte
{
    Accepted = 0,
    Oversized = 1,
    OverCapacity = 2,
    Duplicate = 3,
    Malformed = 4,
}

/// <summary>
/// The side channel's frame header, 32 bytes little-endian, followed by <see cref="Length"/> payload bytes:
/// <c>magic u32 | version u8 | codec u8 | flags u16 (0) | transfer id 16 B | length i64</c>.
/// The listener answers one <see cref="BulkStatus"/> byte per frame.
/// </summary>
public readonly record struct BulkFrameHeader(Guid TransferId, long Length, byte Codec)
{
    public const int Size = 32;
    public const uint Magic = 0x31425441; // "ATB1"
    public const byte Version = 1;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = Version;
        destination[5] = Codec;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        if (!TransferId.TryWriteBytes(destination.Slice(8, 16)))
        {
            throw new ArgumentException("destination too small", nameof(destination));
        }

        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], Length);
    }

    /// <summary>Parses a header; false for anything that is not a well-formed version-1 header.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out BulkFrameHeader header)
    {
        header = default;
        if (source.Length < Size
            || BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic
            || source[4] != Version
            || BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != 0)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt64LittleEndian(source[24..]);
        if (length < 0)
        {
            return false;
        }

        header = new BulkFrameHeader(new Guid(source.Slice(8, 16)), length, source[5]);
        return true;
    }
}

using System.Buffers;

namespace Actors.Runtime.Transport;

/// <summary>
/// The bytes of one received transfer, in a pooled buffer. Dispose it once the bytes are consumed
/// (e.g. copied into a tensor) so the next transfer reuses the buffer instead of allocating a new
/// multi-MB array (allocation and the GCs it causes would otherwise dominate the transfer time).
/// Not disposing is safe: the buffer is then simply left to the GC.
/// </summary>
public sealed class BulkPayload : IDisposable
{
    private readonly ArrayPool<byte>? _pool;
    private byte[]? _buffer;

    internal BulkPayload(byte[] buffer, int length, ArrayPool<byte>? pool)
    {
        _buffer = buffer;
        Length = length;
        _pool = pool;
    }

    public int Length { get; }

    /// <summary>The received bytes; valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Bytes =>
        (_buffer ?? throw new ObjectDisposedException(nameof(BulkPayload))).AsMemory(0, Length);

    /// <summary>A copy the caller owns outright (for code that keeps the bytes).</summary>
    public byte[] ToArray() => Bytes.ToArray();

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            _pool?.Return(buffer);
        }
    }
}

/// <summary>Large receive buffers, pooled by size class; small transfers just allocate.</summary>
internal sealed class BulkBufferPool
{
    private const int PoolFrom = 1 << 20;
    private readonly ArrayPool<byte> _pool;

    public BulkBufferPool(long maxTransferBytes, int buffersPerSize)
    {
        var max = (int)Math.Min(Math.Max(maxTransferBytes, PoolFrom), Array.MaxLength);
        _pool = ArrayPool<byte>.Create(max, buffersPerSize);
    }

    public BulkPayload Rent(int length) => length < PoolFrom
        ? new BulkPayload(GC.AllocateUninitializedArray<byte>(length), length, null)
        : new BulkPayload(_pool.Rent(length), length, _pool);

    /// <summary>The writable buffer behind a payload still being filled by the listener.</summary>
    public static Memory<byte> Writable(BulkPayload payload) => MemoryMarshalHelper.AsWritable(payload.Bytes);
}

internal static class MemoryMarshalHelper
{
    public static Memory<byte> AsWritable(ReadOnlyMemory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.AsMemory(memory);
}

namespace Actors.Runtime.Transport;

/// <summary>A snapshot of the side channel's counters (monotonic since the node started).</summary>
public sealed record BulkTransportStats(
    long TransfersSent,
    long BytesSent,
    long SendFailures,
    long TransfersReceived,
    long BytesReceived,
    long TransfersClaimed,
    long DroppedMalformed,
    long DroppedOversized,
    long DroppedOverCapacity,
    long DroppedDuplicate,
    long DroppedTruncated,
    long DroppedUnclaimed,
    long ConnectionsRejected,
    long ReceiveTimeouts)
{
    /// <summary>Every inbound transfer (or connection) that was dropped, whatever the reason.</summary>
    public long Dropped => DroppedMalformed + DroppedOversized + DroppedOverCapacity + DroppedDuplicate
        + DroppedTruncated + DroppedUnclaimed + ConnectionsRejected;
}

/// <summary>Thread-safe counters behind <see cref="BulkTransportStats"/>.</summary>
internal sealed class BulkTransportCounters
{
    private long _transfersSent;
    private long _bytesSent;
    private long _sendFailures;
    private long _transfersReceived;
    private long _bytesReceived;
    private long _transfersClaimed;
    private long _droppedMalformed;
    private long _droppedOversized;
    private long _droppedOverCapacity;
    private long _droppedDuplicate;
    private long _droppedTruncated;
    private long _droppedUnclaimed;
    private long _connectionsRejected;
    private long _receiveTimeouts;

    public void Sent(long bytes)
    {
        Interlocked.Increment(ref _transfersSent);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    public void SendFailed() => Interlocked.Increment(ref _sendFailures);

    public void Received(long bytes)
    {
        Interlocked.Increment(ref _transfersReceived);
        Interlocked.Add(ref _bytesReceived, bytes);
    }

    public void Claimed() => Interlocked.Increment(ref _transfersClaimed);

    public void Dropped(BulkStatus reason)
    {
        switch (reason)
        {
            case BulkStatus.Oversized: Interlocked.Increment(ref _droppedOversized); break;
            case BulkStatus.OverCapacity: Interlocked.Increment(ref _droppedOverCapacity); break;
            case BulkStatus.Duplicate: Interlocked.Increment(ref _droppedDuplicate); break;
            case BulkStatus.Accepted: break;
            case BulkStatus.Malformed:
            default: Interlocked.Increment(ref _droppedMalformed); break;
        }
    }

    public void DroppedTruncated() => Interlocked.Increment(ref _droppedTruncated);

    public void DroppedUnclaimed() => Interlocked.Increment(ref _droppedUnclaimed);

    public void ConnectionRejected() => Interlocked.Increment(ref _connectionsRejected);

    public void ReceiveTimedOut() => Interlocked.Increment(ref _receiveTimeouts);

    public BulkTransportStats Snapshot() => new(
        Interlocked.Read(ref _transfersSent),
        Interlocked.Read(ref _bytesSent),
        Interlocked.Read(ref _sendFailures),
        Interlocked.Read(ref _transfersReceived),
        Interlocked.Read(ref _bytesReceived),
        Interlocked.Read(ref _transfersClaimed),
        Interlocked.Read(ref _droppedMalformed),
        Interlocked.Read(ref _droppedOversized),
        Interlocked.Read(ref _droppedOverCapacity),
        Interlocked.Read(ref _droppedDuplicate),
        Interlocked.Read(ref _droppedTruncated),
        Interlocked.Read(ref _droppedUnclaimed),
        Interlocked.Read(ref _connectionsRejected),
        Interlocked.Read(ref _receiveTimeouts));
}

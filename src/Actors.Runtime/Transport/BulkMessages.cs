namespace Actors.Runtime.Transport;

/// <summary>Marker for the small messages of the bulk side channel; bound to <see cref="BulkTransportSerializer"/>.</summary>
public interface IBulkTransportMessage;

/// <summary>Where a node's bulk listener can be reached (host as other nodes see it).</summary>
public sealed record BulkEndpoint(string Host, int Port) : IBulkTransportMessage
{
    public override string ToString() => $"{Host}:{Port}";
}

/// <summary>
/// What travels through Akka instead of the bytes: the transfer <see cref="TransferId"/> whose
/// <see cref="Size"/> bytes were pushed to the listener at <see cref="Endpoint"/> (the receiving node).
/// The actor on that node claims them with <see cref="BulkTransport.ReceiveAsync"/>.
/// </summary>
public sealed record BulkHandle(BulkEndpoint Endpoint, Guid TransferId, long Size, byte Codec) : IBulkTransportMessage;

/// <summary>Asks a node's bulk endpoint actor for its <see cref="BulkEndpoint"/>.</summary>
public sealed record GetBulkEndpoint : IBulkTransportMessage
{
    public static readonly GetBulkEndpoint Instance = new();
}

/// <summary>
/// Optional application-level acknowledgement: the receiving actor tells the sender it claimed a
/// transfer, which is what a sender's in-flight window waits for.
/// </summary>
public sealed record BulkDelivered(Guid TransferId, long Size) : IBulkTransportMessage;

/// <summary>A transfer failed: rejected by the receiver, connection lost, or timed out.</summary>
public sealed class BulkTransferException : Exception
{
    public BulkTransferException() { }
    public BulkTransferException(string message) : base(message) { }
    public BulkTransferException(string message, Exception inner) : base(message, inner) { }
}

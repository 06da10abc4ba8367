using Actors.Learning.Compression;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>What a gossip message carries.</summary>
public enum GossipMessageKind
{
    /// <summary>D-SGD: the sender's half-step model x_j, dense.</summary>
    Model,

    /// <summary>CHOCO / LEAD: a compressed increment of the sender's public copy (x_hat or H); <c>Sequence</c> = the copy's version after it.</summary>
    Delta,

    /// <summary>CHOCO / LEAD resync: the public copy before this step in full precision (Dense[0]) plus this step's compressed increment; <c>Sequence</c> as for Delta.</summary>
    Full,

    /// <summary>CHOCO / LEAD: "my copy of you is broken, send Full"; no payload.</summary>
    ResyncRequest,

    /// <summary>PowerGossip: per parameter entry the projection M^T p (or M q) for a matrix, the values for a vector; <c>Sequence</c> = the edge's exchange counter.</summary>
    Projection,

    /// <summary>Asynchronous pairwise gossip (D-SGD, PowerGossip): the initiator's half of an exchange on one edge.</summary>
    PairRequest,

    /// <summary>Asynchronous pairwise gossip: the responder's half (computed before it applied its update).</summary>
    PairReply,
}

/// <summary>
/// One message from node <see cref="From"/> to node <see cref="To"/> for step <see cref="Step"/>. The tensors are owned by
/// the <see cref="GossipOutbox"/> that produced it; a receiver copies what it keeps, so the outbox can be disposed
/// as soon as the message is serialized or delivered.
/// </summary>
public sealed record GossipMessage(int From, int To, long Step, GossipMessageKind Kind, long Sequence,
    CompressedTensor? Compressed = null, IReadOnlyList<torch.Tensor>? Dense = null)
{
    /// <summary>Payload bytes on the wire: tensor values (and indices) plus 8 bytes per compressor scalar; headers excluded.</summary>
    public long WireBytes
    {
        get
        {
            long bytes = 0;
            if (Compressed is not null) bytes += WireSize.Of(Compressed);
            if (Dense is not null) bytes += Dense.Sum(WireSize.Of);
            return bytes;
        }
    }
}

/// <summary>Exact payload sizes.</summary>
public static class WireSize
{
    public static long Of(torch.Tensor t) => t.numel() * t.ElementSize;

    public static long Of(CompressedTensor c) => c.Parts.Sum(Of) + 8L * c.Scalars.Length;
}

/// <summary>The messages one node sends at one step; owns their tensors (shared between messages that carry the same payload).</summary>
public sealed class GossipOutbox : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<GossipMessage> _messages = [];

    public static GossipOutbox Empty => new();

    public IReadOnlyList<GossipMessage> Messages => _messages;

    public long WireBytes => _messages.Sum(m => m.WireBytes);

    internal void Add(GossipMessage message) => _messages.Add(message);

    internal T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
    }
}

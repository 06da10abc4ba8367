using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>
/// What CHOCO-SGD and LEAD share: a public vector (CHOCO's x_hat, LEAD's shift H) that moves only by compressed
/// increments q = C(v - public), so every neighbour can keep an exact copy of it. Each copy has a version (the number of
/// increments applied; it is the per-edge sequence number): an increment applies only on top of the version before it
/// (idempotent, so duplicates and replays are harmless); a gap marks the copy broken, the holder asks for a resync and
/// leaves that neighbour out of mixing until a Full message (the public vector before the step in full precision, plus
/// the step's increment) repairs it. A node sends Full to a receiver that asked, that is new (an edge that did not exist
/// at its previous step, or after it was down), and to everyone every <c>ResyncEvery</c> steps.
/// </summary>
public abstract class ReplicatedCopyNode : GossipNode
{
    private readonly ICompressor _compressor;
    private readonly ParameterLayout? _layout;
    private readonly ulong _compressionSeed;
    private readonly Dictionary<int, Replica> _copies = [];
    private readonly SortedDictionary<long, List<Pending>> _inbox = [];
    private readonly HashSet<int> _resyncRequestedBy = [];
    private readonly HashSet<int> _resyncNeededFrom = [];

    protected ReplicatedCopyNode(int id, torch.Tensor initialModel, GossipSettings settings, ICompressor compressor, ParameterLayout? layout)
        : base(id, initialModel, settings)
    {
        _compressor = compressor;
        _layout = layout;
        _compressionSeed = Seeds.Derive(settings.Seed, "gossip-compress", id);
        PublicVector = torch.zeros_like(initialModel).DetachFromDisposeScope();
    }

    /// <summary>This node's public vector (x_hat_i or H_i); every neighbour holds a copy of it.</summary>
    public torch.Tensor PublicVector { get; }

    /// <summary>Number of increments applied to <see cref="PublicVector"/>.</summary>
    public long PublicVersion { get; private set; }

    /// <summary>This node's copy of neighbour j's public vector, or null if it has none or it is broken (awaiting resync).</summary>
    public torch.Tensor? CopyOf(int neighbor) => _copies.TryGetValue(neighbor, out var r) && !r.Broken ? r.Value : null;

    public long? CopyVersionOf(int neighbor) => _copies.TryGetValue(neighbor, out var r) && !r.Broken ? r.Version : null;

    /// <summary>The local step; returns the vector v whose compressed difference v - public is sent (CHOCO: x, LEAD: Y).</summary>
    protected abstract torch.Tensor LocalUpdate(long step, torch.Tensor gradient);

    /// <summary>How a public vector (own or a copy) moves by a decoded increment d, in place. May return a by-product (LEAD's Yhat).</summary>
    protected abstract torch.Tensor? Advance(torch.Tensor publicVector, torch.Tensor increment);

    /// <summary>Called once per step after the own public vector advanced, with Advance's by-product.</summary>
    protected virtual void OnOwnAdvanced(long step, torch.Tensor? byProduct) { }

    /// <summary>The consensus step, with Advance's by-products of the in-neighbours whose step message arrived.</summary>
    protected abstract void Consensus(long step, MixingRow row, IReadOnlyDictionary<int, torch.Tensor?> fresh);

    /// <summary>Visits the in-neighbours with a usable copy and their weight.</summary>
    protected IEnumerable<(int Neighbor, double Weight, torch.Tensor Copy)> UsableCopies(MixingRow row)
    {
        foreach (var (j, w) in row.InNeighbors)
            if (_copies.TryGetValue(j, out var r) && !r.Broken) yield return (j, w, r.Value);
    }

    /// <summary>True for methods whose fixed point needs a symmetric W (LEAD's dual update).</summary>
    protected virtual bool NeedsSymmetricMixing => false;

    protected sealed override GossipOutbox Compose(long step, torch.Tensor gradient, MixingRow row)
    {
        if (NeedsSymmetricMixing) RequireUndirected(row);
        var outbox = new GossipOutbox();
        var target = LocalUpdate(step, gradient);
        var q = _compressor.Compress(target.sub(PublicVector), new CompressionContext(step, _compressionSeed, _layout));
        foreach (var part in q.Parts) part.DetachFromDisposeScope();
        outbox.Own(q);
        var increment = Decoded(q);

        bool periodic = Settings.ResyncEvery > 0 && step > 0 && step % Settings.ResyncEvery == 0;
        bool rejoined = Rejoined(step);
        var fullTo = row.OutNeighbors
            .Where(r => periodic || _resyncRequestedBy.Contains(r) || (PublicVersion > 0 && (rejoined || IsNewReceiver(r))))
            .ToHashSet();
        torch.Tensor? full = fullTo.Count > 0 ? outbox.Own(PublicVector.clone().DetachFromDisposeScope()) : null;

        OnOwnAdvanced(step, Advance(PublicVector, increment));
        PublicVersion++;

        foreach (int r in row.OutNeighbors)
        {
            outbox.Add(fullTo.Contains(r)
                ? new GossipMessage(Id, r, step, GossipMessageKind.Full, PublicVersion, q, [full!])
                : new GossipMessage(Id, r, step, GossipMessageKind.Delta, PublicVersion, q));
        }
        foreach (int j in _resyncNeededFrom.Order())
            outbox.Add(new GossipMessage(Id, j, step, GossipMessageKind.ResyncRequest, CopyVersionOrMinus(j)));
        _resyncRequestedBy.Clear();
        _resyncNeededFrom.Clear();
        return outbox;
    }

    /// <summary>D(q) as a flat vector of the model dtype (whatever layout or dtype the codec hands back).</summary>
    private torch.Tensor Decoded(CompressedTensor q)
    {
        var d = _compressor.Decompress(q);
        if (d.dtype == PublicVector.dtype && d.dim() == 1) return d;
        using (d) return d.reshape(-1).to_type(PublicVector.dtype);
    }

    private long CopyVersionOrMinus(int j) => _copies.TryGetValue(j, out var r) ? r.Version : -1;

    protected sealed override void Accept(GossipMessage message)
    {
        switch (message.Kind)
        {
            case GossipMessageKind.ResyncRequest:
                _resyncRequestedBy.Add(message.From);
                return;
            case GossipMessageKind.Delta:
            case GossipMessageKind.Full:
                if (message.Compressed is null) throw new ArgumentException($"{message.Kind} message from {message.From} without an increment");
                var pending = new Pending(message.From, message.Step, message.Kind, message.Sequence,
                    message.Kind == GossipMessageKind.Full ? message.Dense![0].detach().clone().DetachFromDisposeScope() : null,
                    Decoded(message.Compressed).DetachFromDisposeScope());
                if (message.Step <= MixedStep)
                {
                    // Late (after our Mix of that step): still keeps the copy exact when it is the next version.
                    Counters.Stale++;
                    using (pending) Apply(pending);
                    return;
                }
                if (!_inbox.TryGetValue(message.Step, out var list)) _inbox[message.Step] = list = [];
                list.Add(pending);
                return;
            default:
                throw new ArgumentException($"{Algorithm} node {Id} cannot take a {message.Kind} message");
        }
    }

    protected sealed override void Combine(long step, MixingRow row)
    {
        var fresh = new Dictionary<int, torch.Tensor?>();
        foreach (long s in _inbox.Keys.Where(k => k <= step).ToList())
        {
            foreach (var p in _inbox[s])
            {
                using (p)
                {
                    var (applied, byProduct) = Apply(p);
                    if (applied && s == step) fresh[p.From] = byProduct;
                }
            }
            _inbox.Remove(s);
        }
        Consensus(step, row, fresh);
    }

    private (bool Applied, torch.Tensor? ByProduct) Apply(Pending p)
    {
        if (!_copies.TryGetValue(p.From, out var copy))
            _copies[p.From] = copy = new Replica(torch.zeros_like(PublicVector).DetachFromDisposeScope());
        if (p.Kind == GossipMessageKind.Full)
        {
            if (!copy.Broken && copy.Version >= p.Version)
            {
                Counters.Duplicates++;
                return (false, null);
            }
            copy.Value.copy_(p.Base!);
            copy.Broken = false;
            copy.Version = p.Version;
            Counters.ResyncsApplied++;
            _resyncNeededFrom.Remove(p.From);
            return (true, Advance(copy.Value, p.Increment));
        }
        if (!copy.Broken && copy.Version == p.Version - 1)
        {
            copy.Version = p.Version;
            return (true, Advance(copy.Value, p.Increment));
        }
        if (!copy.Broken && copy.Version >= p.Version)
        {
            Counters.Duplicates++;
            return (false, null);
        }
        if (!copy.Broken) Counters.BrokenCopies++;
        copy.Broken = true;
        _resyncNeededFrom.Add(p.From);
        return (false, null);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            PublicVector.Dispose();
            (_compressor as IDisposable)?.Dispose();
            foreach (var r in _copies.Values) r.Value.Dispose();
            foreach (var p in _inbox.Values.SelectMany(l => l)) p.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class Replica(torch.Tensor value)
    {
        public torch.Tensor Value { get; } = value;
        public long Version { get; set; }
        public bool Broken { get; set; }
    }

    private sealed record Pending(int From, long Step, GossipMessageKind Kind, long Version, torch.Tensor? Base, torch.Tensor Increment) : IDisposable
    {
        public void Dispose()
        {
            Base?.Dispose();
            Increment.Dispose();
        }
    }
}

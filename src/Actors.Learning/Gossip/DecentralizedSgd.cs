using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>
/// D-SGD (gossip averaging): x_i -= lr g_i, then x_i += gamma (sum_j w_ij x_j - x_i) over the half-step models
/// (gamma = 1: x_i = sum_j w_ij x_j). A neighbour whose model did not arrive keeps its weight on the node.
/// Also asynchronous pairwise gossip: one edge (i, j) averages at a time, x_i, x_j move by -+ (gamma / 2)(x_i - x_j).
/// </summary>
public sealed class DecentralizedSgd : GossipNode, IPairwiseGossip
{
    private readonly SortedDictionary<long, Dictionary<int, torch.Tensor>> _inbox = [];
    private readonly Dictionary<int, torch.Tensor> _pairSent = [];

    public DecentralizedSgd(int id, torch.Tensor initialModel, GossipSettings settings) : base(id, initialModel, settings) { }

    public override string Algorithm => "dsgd";

    protected override GossipOutbox Compose(long step, torch.Tensor gradient, MixingRow row)
    {
        SgdStep(gradient);
        var outbox = new GossipOutbox();
        if (row.OutNeighbors.Count == 0) return outbox;
        var copy = outbox.Own(X.clone().DetachFromDisposeScope());
        foreach (int r in row.OutNeighbors) outbox.Add(new GossipMessage(Id, r, step, GossipMessageKind.Model, step, Dense: [copy]));
        return outbox;
    }

    protected override void Accept(GossipMessage message)
    {
        if (message.Kind != GossipMessageKind.Model) throw new ArgumentException($"dsgd node {Id} cannot take a {message.Kind} message here");
        if (message.Step <= MixedStep)
        {
            Counters.Stale++;
            return;
        }
        if (!_inbox.TryGetValue(message.Step, out var models)) _inbox[message.Step] = models = [];
        if (models.ContainsKey(message.From))
        {
            Counters.Duplicates++;
            return;
        }
        models[message.From] = message.Dense![0].to_type(X.dtype).detach().clone().DetachFromDisposeScope();
    }

    protected override void Combine(long step, MixingRow row)
    {
        if (_inbox.TryGetValue(step, out var models))
        {
            var pull = torch.zeros_like(X);
            foreach (var (j, w) in row.InNeighbors)
                if (models.TryGetValue(j, out var xj)) pull.AddScaled_(xj.sub(X), w);
            X.AddScaled_(pull, Settings.Gamma);
        }
        DropThrough(_inbox, step);
    }

    public void LocalStep(torch.Tensor gradient) => SgdStep(gradient);

    public GossipOutbox Initiate(int peer, long step)
    {
        if (_pairSent.ContainsKey(peer)) throw new InvalidOperationException($"node {Id} already has an exchange open with {peer}");
        using var scope = torch.NewDisposeScope();
        _pairSent[peer] = X.detach().clone().DetachFromDisposeScope();
        var outbox = new GossipOutbox();
        outbox.Add(new GossipMessage(Id, peer, step, GossipMessageKind.PairRequest, step, Dense: [outbox.Own(X.detach().clone().DetachFromDisposeScope())]));
        return outbox;
    }

    public GossipOutbox Respond(GossipMessage request)
    {
        if (request.Kind != GossipMessageKind.PairRequest || request.To != Id) throw new ArgumentException($"node {Id}: not a pair request for it");
        using var scope = torch.NewDisposeScope();
        var outbox = new GossipOutbox();
        var mine = outbox.Own(X.detach().clone().DetachFromDisposeScope());
        ApplyPair(request.From, mine, request.Dense![0]);
        outbox.Add(new GossipMessage(Id, request.From, request.Step, GossipMessageKind.PairReply, request.Sequence, Dense: [mine]));
        return outbox;
    }

    public void Complete(GossipMessage reply)
    {
        if (reply.Kind != GossipMessageKind.PairReply || !_pairSent.Remove(reply.From, out var mine))
        {
            Counters.Stale++;
            return;
        }
        using (mine) ApplyPair(reply.From, mine, reply.Dense![0]);
    }

    /// <summary>Both ends form the same U = (gamma / 2)(x_lo - x_hi); the lower id subtracts it, the higher adds it.</summary>
    private void ApplyPair(int peer, torch.Tensor mine, torch.Tensor theirs)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var t = theirs.to_type(X.dtype);
        var u = (Id < peer ? mine.sub(t) : t.sub(mine)).MulBy_(Settings.Gamma / 2);
        if (Id < peer) X.sub_(u);
        else X.add_(u);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var t in _inbox.Values.SelectMany(m => m.Values).Concat(_pairSent.Values)) t.Dispose();
        }
        base.Dispose(disposing);
    }
}

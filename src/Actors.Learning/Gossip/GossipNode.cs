using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>
/// One node's state in decentralized training, driven by explicit steps so an actor (or the synchronous driver) can
/// call it from messages. Per synchronous step t, for a node that is up:
/// <list type="number">
/// <item><c>g = problem.LocalGradient(node.Model)</c> (the caller computes the gradient at <see cref="Model"/>);</item>
/// <item><c>using var outbox = node.Send(t, g, topology.At(t).Row(id))</c>: local step, then the messages to deliver (each names its receiver);</item>
/// <item><c>node.Receive(m)</c> for every message addressed to it (any order, duplicates allowed; messages of a later
/// step are buffered, messages of the same step applied in <see cref="Mix"/>);</item>
/// <item><c>node.Mix(t)</c> once the step's messages are in (a missing one is treated as "no edge this step").</item>
/// </list>
/// A node that is down is simply not called; when it comes back its public copies are resynchronised automatically.
/// The node owns its tensors (detached); dispose it when done.
/// </summary>
public abstract class GossipNode : IDisposable
{
    private MixingRow? _row;

    protected GossipNode(int id, torch.Tensor initialModel, GossipSettings settings)
    {
        Id = id;
        Settings = settings;
        X = initialModel.detach().clone().DetachFromDisposeScope();
    }

    public int Id { get; }
    public GossipSettings Settings { get; }
    public abstract string Algorithm { get; }
    public GossipCounters Counters { get; } = new();

    /// <summary>The node's model x_i; read it (e.g. to compute the gradient or the average), do not keep or modify it.</summary>
    public torch.Tensor Model => X;

    /// <summary>Model x_i (state).</summary>
    protected torch.Tensor X { get; private set; }

    /// <summary>The last step <see cref="Send"/> ran (-1 before the first).</summary>
    public long LastSentStep { get; private set; } = -1;

    public long MixedStep { get; private set; } = -1;

    /// <summary>Local step with gradient g (taken at <see cref="Model"/>) and the messages for this step's receivers.</summary>
    public GossipOutbox Send(long step, torch.Tensor gradient, MixingRow row)
    {
        if (row.Node != Id) throw new ArgumentException($"node {Id} was given the mixing row of node {row.Node}");
        if (step <= LastSentStep) throw new InvalidOperationException($"node {Id}: step {step} already sent (last {LastSentStep})");
        if (LastSentStep > MixedStep) throw new InvalidOperationException($"node {Id}: Mix({LastSentStep}) must run before Send({step})");
        if (gradient.numel() != X.numel()) throw new ArgumentException($"gradient has {gradient.numel()} values, model {X.numel()}");
        GossipOutbox outbox;
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            outbox = Compose(step, gradient, row);
        }
        LastSentStep = step;
        _row = row;
        return outbox;
    }

    /// <summary>Takes in a neighbour's message (copies what it keeps; the message stays owned by its outbox). Idempotent.</summary>
    public void Receive(GossipMessage message)
    {
        if (message.To != Id) throw new ArgumentException($"message for node {message.To} delivered to node {Id}");
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            Accept(message);
        }
    }

    /// <summary>
    /// Replaces the mixing row of the step sent last, before it is mixed: a neighbour that died mid-step (a cluster node lost)
    /// is planned out, and the step mixes with the live neighbours' messages under the re-weighted row.
    /// </summary>
    public void Replan(MixingRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.Node != Id) throw new ArgumentException($"node {Id} was given the mixing row of node {row.Node}");
        if (_row is null || MixedStep == LastSentStep) throw new InvalidOperationException($"node {Id}: no step in progress to replan");
        _row = row;
    }

    /// <summary>Consensus part of step <paramref name="step"/> (after <see cref="Send"/> of the same step).</summary>
    public void Mix(long step)
    {
        if (step != LastSentStep || _row is null) throw new InvalidOperationException($"node {Id}: Mix({step}) without Send({step})");
        if (MixedStep == step) throw new InvalidOperationException($"node {Id}: step {step} already mixed");
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            Combine(step, _row);
        }
        MixedStep = step;
    }

    /// <summary>During <see cref="Compose"/>: true when this send follows a gap (the node was down).</summary>
    protected bool Rejoined(long step) => LastSentStep != step - 1;

    /// <summary>During <see cref="Compose"/>: true when <paramref name="receiver"/> did not get our previous step's message (a new edge).</summary>
    protected bool IsNewReceiver(int receiver) => _row is null || !_row.OutNeighbors.Contains(receiver);

    /// <summary>Throws unless the node receives from exactly the nodes it sends to (an undirected edge set).</summary>
    protected void RequireUndirected(MixingRow row)
    {
        var ins = row.InNeighbors.Select(n => n.Neighbor).Order().ToArray();
        if (!ins.SequenceEqual(row.OutNeighbors.Order()))
            throw new InvalidOperationException($"{Algorithm} needs an undirected topology (W symmetric): node {Id} receives from [{string.Join(",", ins)}] but sends to [{string.Join(",", row.OutNeighbors)}]");
    }

    protected abstract GossipOutbox Compose(long step, torch.Tensor gradient, MixingRow row);

    protected abstract void Accept(GossipMessage message);

    protected abstract void Combine(long step, MixingRow row);

    /// <summary>Plain local SGD step x -= lr g on the node's model.</summary>
    protected void SgdStep(torch.Tensor gradient)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        X.AddScaled_(gradient.to_type(X.dtype), -Settings.LearningRate);
    }

    /// <summary>Removes and disposes the buffered messages of every step up to and including <paramref name="step"/>.</summary>
    protected static void DropThrough<T>(SortedDictionary<long, Dictionary<int, T>> inbox, long step) where T : IDisposable
    {
        ArgumentNullException.ThrowIfNull(inbox);
        foreach (long s in inbox.Keys.Where(k => k <= step).ToList())
        {
            foreach (var item in inbox[s].Values) item.Dispose();
            inbox.Remove(s);
        }
    }

    /// <summary>Replaces the model tensor (the old one is disposed).</summary>
    protected void SetModel(torch.Tensor x)
    {
        var old = X;
        X = x.detach().DetachFromDisposeScope();
        old.Dispose();
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) X.Dispose();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Asynchronous pairwise gossip on one edge (i, j) at a time (D-SGD and PowerGossip, whose updates are per edge):
/// i: <c>Initiate(j)</c> -> j: <c>Respond(request)</c> (j applies its half and replies) -> i: <c>Complete(reply)</c>.
/// Both halves are equal and opposite, so x_i + x_j is preserved. The caller must not run two exchanges on the same
/// edge at once (e.g. only the lower id initiates, or the responder refuses while it has one open on that edge).
/// </summary>
public interface IPairwiseGossip
{
    /// <summary>Local step x -= lr g (asynchronous mode has no barrier, so the local step is its own call).</summary>
    void LocalStep(torch.Tensor gradient);

    GossipOutbox Initiate(int peer, long step);

    GossipOutbox Respond(GossipMessage request);

    void Complete(GossipMessage reply);
}

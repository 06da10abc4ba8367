using Actors.Runtime.Experiments;
using TorchSharp;

namespace Actors.Runtime.ParameterServer;

/// <summary>One update the aggregator accepted: valid, finite, the first of its worker for its model version.</summary>
public readonly record struct RoundInput(int Worker, long Version, torch.Tensor Update);

/// <summary>What a round policy may ask of the aggregator that hosts it.</summary>
public interface IRoundHost
{
    /// <summary>The server model's version (the step).</summary>
    long Version { get; }

    /// <summary>Workers (honest and Byzantine) that have not crashed.</summary>
    IReadOnlySet<int> Live { get; }

    /// <summary>True once the last step is applied: nothing more is broadcast.</summary>
    bool Finished { get; }

    /// <summary>
    /// One server step over <paramref name="inputs"/>: the model moves by <paramref name="scale"/> times lr times their
    /// aggregate. The host disposes the inputs.
    /// </summary>
    void Apply(List<RoundInput> inputs, double scale);

    /// <summary>Sends the current model to these workers.</summary>
    void Broadcast(IEnumerable<int> workers);

    /// <summary>Counts an update dropped for being too stale.</summary>
    void DropStale(int worker);

    /// <summary>Delivers a round deadline for the current version after <paramref name="delay"/>.</summary>
    void ArmDeadline(TimeSpan delay);

    /// <summary>No update can arrive any more: every live worker's latest update was non-finite.</summary>
    void Stalled();
}

/// <summary>
/// When the aggregator applies updates (`timing.mode`). A policy only decides when, and how many updates one step takes;
/// the host validates updates before they get here, applies steps, broadcasts and counts. One class per mode.
/// </summary>
public abstract class RoundPolicy(IRoundHost host) : IDisposable
{
    protected IRoundHost Host { get; } = host;

    public static RoundPolicy Create(TimingSpec timing, AsyncScaling scaling, IRoundHost host)
    {
        ArgumentNullException.ThrowIfNull(timing);
        return timing.Mode switch
        {
            TimingMode.Sync or TimingMode.Deadline => new VersionedRound(host, timing),
            TimingMode.Async => new AsyncRound(host, timing, scaling),
            TimingMode.Buffered => new BufferedRound(host, timing, scaling),
            _ => throw new ArgumentOutOfRangeException(nameof(timing), timing.Mode, "unknown timing mode"),
        };
    }

    /// <summary>The first broadcast of version 0.</summary>
    public virtual void Start() => Host.Broadcast(Host.Live.Order());

    /// <summary>An accepted update; the policy owns its tensor from here (apply or dispose it).</summary>
    public abstract void Accept(RoundInput input);

    /// <summary>This worker's update for <paramref name="version"/> was non-finite and dropped: the worker has diverged.</summary>
    public abstract void Rejected(int worker, long version);

    /// <summary>A round deadline armed at <paramref name="version"/> has passed.</summary>
    public virtual void Deadline(long version)
    {
    }

    /// <summary>These workers crashed (already removed from <see cref="IRoundHost.Live"/>).</summary>
    public abstract void WorkersLost(IReadOnlyCollection<int> lost);

    public abstract void Dispose();

    /// <summary>
    /// The share of a sync round that a step over <paramref name="count"/> updates is: count / n with per-worker scaling,
    /// n = the live workers a sync round would average (CONTRACTS.md `optimizer.async-scaling`).
    /// </summary>
    protected double Share(AsyncScaling scaling, int count) =>
        scaling == AsyncScaling.PerWorker ? (double)count / Math.Max(1, Host.Live.Count) : 1.0;

    protected static bool TooStale(TimingSpec timing, long staleness) => timing.MaxStaleness >= 0 && staleness > timing.MaxStaleness;
}

/// <summary>
/// `sync` and `deadline`: one round per model version. Sync closes when every live worker has reported; deadline closes at
/// the first `quorum` updates or when `deadline-ms` passes, and late updates are dropped or carried into the next round.
/// A worker whose update for the round was rejected has reported (the round does not wait for it forever).
/// </summary>
internal sealed class VersionedRound(IRoundHost host, TimingSpec timing) : RoundPolicy(host)
{
    private readonly Dictionary<int, RoundInput> _round = [];
    private readonly List<RoundInput> _carried = [];
    private readonly HashSet<int> _rejected = [];

    private int Quorum => timing.Mode == TimingMode.Deadline && timing.Quorum > 0 ? Math.Min(timing.Quorum, Host.Live.Count) : Host.Live.Count;

    public override void Start()
    {
        base.Start();
        ArmDeadline();
    }

    public override void Accept(RoundInput input)
    {
        if (input.Version < Host.Version)
        {
            if (timing.Mode == TimingMode.Deadline && timing.LateUpdates == LateUpdates.Carry) _carried.Add(input);
            else
            {
                input.Update.Dispose();
                Host.DropStale(input.Worker);
            }
            return;
        }
        _round[input.Worker] = input;
        _rejected.Remove(input.Worker);
        TryClose();
    }

    public override void Rejected(int worker, long version)
    {
        if (version != Host.Version || _round.ContainsKey(worker)) return;
        _rejected.Add(worker);
        TryClose();
    }

    public override void Deadline(long version)
    {
        if (!Host.Finished && version == Host.Version && _round.Count > 0) Close();
    }

    public override void WorkersLost(IReadOnlyCollection<int> lost)
    {
        foreach (var id in lost)
        {
            _rejected.Remove(id);
            if (_round.Remove(id, out var pending)) pending.Update.Dispose(); // a crashed worker's half round does not count
        }
        if (Host.Live.Count > 0) TryClose(); // the round may be complete with the workers that are left
    }

    private void TryClose()
    {
        if (Host.Finished) return;
        bool everyoneReported = _round.Count + _rejected.Count >= Host.Live.Count;
        if (_round.Count > 0 && (_round.Count >= Quorum || everyoneReported)) Close();
        else if (_round.Count == 0 && everyoneReported && _rejected.Count > 0) Host.Stalled();
    }

    private void Close()
    {
        var inputs = _round.Values.Concat(_carried).ToList();
        _round.Clear();
        _carried.Clear();
        _rejected.Clear();
        Host.Apply(inputs, 1.0);
        if (Host.Finished) return;
        Host.Broadcast(Host.Live.Order());
        ArmDeadline();
    }

    private void ArmDeadline()
    {
        if (timing.Mode == TimingMode.Deadline && timing.DeadlineMs > 0) Host.ArmDeadline(TimeSpan.FromMilliseconds(timing.DeadlineMs));
    }

    public override void Dispose()
    {
        foreach (var r in _round.Values) r.Update.Dispose();
        foreach (var c in _carried) c.Update.Dispose();
        _round.Clear();
        _carried.Clear();
    }
}

/// <summary>
/// `async`: each update is applied on arrival (one step each) and its sender gets the new model. Updates staler than
/// `max-staleness` are dropped (the sender still gets the model). A worker whose update was rejected gets no new model:
/// its state is broken (a non-finite momentum stays non-finite); when that is every live worker, the run has stalled.
/// </summary>
internal sealed class AsyncRound(IRoundHost host, TimingSpec timing, AsyncScaling scaling) : RoundPolicy(host)
{
    private readonly HashSet<int> _stuck = [];

    public override void Accept(RoundInput input)
    {
        if (TooStale(timing, Host.Version - input.Version))
        {
            input.Update.Dispose();
            Host.DropStale(input.Worker);
        }
        else
        {
            Host.Apply([input], Share(scaling, 1));
        }
        if (!Host.Finished) Host.Broadcast([input.Worker]);
    }

    public override void Rejected(int worker, long version)
    {
        _stuck.Add(worker);
        CheckStalled();
    }

    public override void WorkersLost(IReadOnlyCollection<int> lost)
    {
        _stuck.ExceptWith(lost);
        if (Host.Live.Count > 0) CheckStalled();
    }

    private void CheckStalled()
    {
        if (!Host.Finished && Host.Live.IsSubsetOf(_stuck)) Host.Stalled();
    }

    public override void Dispose()
    {
    }
}

/// <summary>
/// `buffered` (FedBuff): every `buffer-size` arrivals are applied together as one step, and their senders get the new
/// model. A worker contributes once per version. When every live worker is either waiting in the buffer or broken (its
/// update rejected), the buffer can never fill: it is applied as it is.
/// </summary>
internal sealed class BufferedRound(IRoundHost host, TimingSpec timing, AsyncScaling scaling) : RoundPolicy(host)
{
    private readonly List<RoundInput> _buffer = [];
    private readonly HashSet<int> _stuck = [];

    public override void Accept(RoundInput input)
    {
        if (TooStale(timing, Host.Version - input.Version))
        {
            input.Update.Dispose();
            Host.DropStale(input.Worker);
            Host.Broadcast([input.Worker]);
            return;
        }
        _stuck.Remove(input.Worker);
        _buffer.Add(input);
        if (_buffer.Count >= timing.BufferSize) Flush();
    }

    public override void Rejected(int worker, long version)
    {
        _stuck.Add(worker);
        CheckStuck();
    }

    public override void WorkersLost(IReadOnlyCollection<int> lost)
    {
        _stuck.ExceptWith(lost);
        if (Host.Live.Count > 0) CheckStuck();
    }

    private void CheckStuck()
    {
        if (Host.Finished) return;
        var waiting = _buffer.Select(b => b.Worker).ToHashSet();
        if (!Host.Live.All(w => waiting.Contains(w) || _stuck.Contains(w))) return;
        if (_buffer.Count > 0) Flush();
        else Host.Stalled();
    }

    private void Flush()
    {
        var batch = _buffer.ToList();
        _buffer.Clear();
        Host.Apply(batch, Share(scaling, batch.Count));
        if (!Host.Finished) Host.Broadcast(batch.Select(b => b.Worker));
    }

    public override void Dispose()
    {
        foreach (var b in _buffer) b.Update.Dispose();
        _buffer.Clear();
    }
}

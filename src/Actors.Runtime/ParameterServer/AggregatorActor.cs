using Actors.Learning.Wire;
using Actors.Learning.Aggregation;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Runtime.Experiments;
using Actors.Runtime.Protocol;
using Actors.Runtime.Engine;
using Actors.Runtime.Running;
using Actors.Runtime.Simulation;
using Akka.Actor;
using TorchSharp;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.ParameterServer;

/// <summary>
/// The parameter server. Owns the server model (through <see cref="ServerModel"/>) and decides *when* updates are
/// applied: <c>sync</c> (every live worker), <c>deadline</c> (first k, or a virtual-time deadline), <c>async</c> (each on
/// arrival, with staleness bound and weighting), <c>buffered</c> (every buffer-size arrivals). Accepts at most one
/// update per worker per model version; drops non-finite and too-stale updates and counts every drop by reason.
/// </summary>
public sealed class AggregatorActor : SimulatedActor
{
    private readonly ExperimentSpec _spec;
    private readonly ServerModel _server;
    private readonly INetwork _network;
    private readonly IClock _clock;
    private readonly IActorRef _evaluator;
    private readonly IActorRef _coordinator;
    private readonly Random _rng;
    private readonly TimingSpec _timing;
    private readonly UpdateBook _book;
    private readonly RunProgress _progress;
    private readonly UpdateCodec? _broadcastCodec;
    private readonly long _checkpointEvery;
    private torch.Tensor? _public; // what workers hold when broadcasts are compressed deltas

    private IReadOnlyList<IActorRef> _workers = [];
    private readonly HashSet<int> _live = [];
    private TensorPayload? _broadcast;
    private long _broadcastVersion = -1;
    private readonly Dictionary<int, (long Version, torch.Tensor Update)> _round = [];
    private readonly List<(int Worker, long Version, torch.Tensor Update)> _carried = [];
    private readonly List<(int Worker, long Version, torch.Tensor Update)> _buffer = [];
    private bool _finished;

    public AggregatorActor(ExperimentSpec spec, ServerModel server, INetwork network, IClock clock, IActorRef evaluator, IActorRef coordinator, RunProgress progress,
        UpdateCodec? broadcastCodec = null, long checkpointEvery = 0, AggregatorCounters? resume = null)
    {
        _checkpointEvery = checkpointEvery;
        _progress = progress;
        _broadcastCodec = broadcastCodec;
        _spec = spec;
        _server = server;
        _network = network;
        _clock = clock;
        _evaluator = evaluator;
        _coordinator = coordinator;
        _timing = spec.Timing;
        _rng = Seeds.Random(spec.Seed, "aggregator");
        _book = new UpdateBook(spec.Workers.Total);
        if (resume is not null)
        {
            _book.Restore(resume);
            _network.Stats.Add(resume.MessagesSent, resume.BytesSent, resume.BytesUplink, resume.BytesUplinkUncompressed);
        }

        Receive<Wire>(w =>
        {
            _workers = [.. w.Workers, .. w.Byzantine];
            for (int i = 0; i < _workers.Count; i++) _live.Add(i);
        });
        Receive<StartTraining>(_ =>
        {
            Evaluate(final: false);
            Broadcast(_workers.Select((_, i) => i));
            ArmDeadline();
        });
        Receive<WorkerUpdate>(OnUpdate);
        Receive<WorkersLost>(OnWorkersLost);
        Receive<RoundDeadline>(d =>
        {
            if (!_finished && d.Version == _server.Version && _round.Count > 0) CloseRound();
        });
    }

    public static Props Props(ExperimentSpec spec, ServerModel server, INetwork network, IClock clock, IActorRef evaluator, IActorRef coordinator, RunProgress progress,
        UpdateCodec? broadcastCodec = null, long checkpointEvery = 0, AggregatorCounters? resume = null) =>
        Akka.Actor.Props.Create(() => new AggregatorActor(spec, server, network, clock, evaluator, coordinator, progress, broadcastCodec, checkpointEvery, resume));

    private int Quorum => _timing.Mode == "deadline" && _timing.Quorum > 0 ? Math.Min(_timing.Quorum, _live.Count) : _live.Count;

    private void OnUpdate(WorkerUpdate u)
    {
        if (_finished)
        {
            u.Update.Release();
            return;
        }
        if (!MessageSender.Path.Address.HasLocalScope) _network.Received(u.Update.SizeBytes, u.UncompressedBytes, LinkKind.Uplink);
        if (u.WorkerId < 0 || u.WorkerId >= _workers.Count || !_live.Contains(u.WorkerId))
        {
            u.Update.Release();
            _book.Drop("malformed", -1);
            return;
        }
        if (u.Version > _server.Version || u.Version < 0)
        {
            u.Update.Release();
            _book.Drop("malformed", u.WorkerId); // claims a model version that does not exist
            return;
        }
        torch.Tensor update;
        try
        {
            update = u.Update.TakeTensor(); // the aggregator is the message's last holder: no copy for in-process payloads
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.Runtime.Serialization.SerializationException)
        {
            _book.Drop("malformed", u.WorkerId);
            return;
        }
        if (update.numel() != _server.Parameters.numel())
        {
            update.Dispose();
            _book.Drop("malformed", u.WorkerId);
            return;
        }
        if (!ServerModel.IsFinite(update))
        {
            update.Dispose();
            _book.Drop("non_finite", u.WorkerId);
            return;
        }
        if (!_book.FirstFor(u.WorkerId, u.Version))
        {
            update.Dispose();
            _book.Drop("duplicate", u.WorkerId); // at most one accepted message per worker per version (floods end here)
            return;
        }

        long staleness = _server.Version - u.Version;
        switch (_timing.Mode)
        {
            case "sync":
            case "deadline":
                if (staleness > 0)
                {
                    if (_timing.Mode == "deadline" && _timing.LateUpdates == "carry") _carried.Add((u.WorkerId, u.Version, update));
                    else
                    {
                        update.Dispose();
                        _book.Drop("stale", u.WorkerId);
                    }
                    return;
                }
                _round[u.WorkerId] = (u.Version, update);
                if (_round.Count >= Quorum) CloseRound();
                break;
            case "async":
                if (TooStale(staleness, u.WorkerId))
                {
                    update.Dispose();
                }
                else
                {
                    using (update) ApplyStep([(u.WorkerId, u.Version, update)]);
                }
                if (!_finished) Broadcast([u.WorkerId]);
                break;
            case "buffered":
                // FedBuff-style: a worker contributes once per version and gets the next model when its buffer is applied.
                if (TooStale(staleness, u.WorkerId))
                {
                    update.Dispose();
                    Broadcast([u.WorkerId]);
                    break;
                }
                _buffer.Add((u.WorkerId, u.Version, update));
                if (_buffer.Count >= _timing.BufferSize)
                {
                    var batch = _buffer.ToList();
                    _buffer.Clear();
                    ApplyStep(batch);
                    foreach (var b in batch) b.Update.Dispose();
                    if (!_finished) Broadcast(batch.Select(b => b.Worker));
                }
                break;
        }
    }

    private void OnWorkersLost(WorkersLost lost)
    {
        foreach (var id in lost.WorkerIds)
        {
            _live.Remove(id);
            if (_round.Remove(id, out var pending)) pending.Update.Dispose(); // a crashed worker's half round does not count
        }
        // sync/deadline: the round may now be complete with the workers that are left.
        if (!_finished && _live.Count > 0 && _round.Count > 0 && _round.Count >= Quorum) CloseRound();
    }

    private bool TooStale(long staleness, int worker)
    {
        if (_timing.MaxStaleness < 0 || staleness <= _timing.MaxStaleness) return false;
        _book.Drop("stale", worker);
        return true;
    }

    private void CloseRound()
    {
        var inputs = _round.Select(kv => (kv.Key, kv.Value.Version, kv.Value.Update)).Concat(_carried).ToList();
        _round.Clear();
        _carried.Clear();
        ApplyStep(inputs);
        foreach (var i in inputs) i.Update.Dispose();
        if (!_finished)
        {
            Broadcast(_live.Order());
            ArmDeadline();
        }
    }

    private void ArmDeadline()
    {
        if (_timing.Mode == "deadline" && _timing.DeadlineMs > 0)
            _clock.After(TimeSpan.FromMilliseconds(_timing.DeadlineMs), Self, new RoundDeadline(_server.Version), Self);
    }

    /// <summary>One server step over the given updates (in worker order, so the result does not depend on arrival order within a round).</summary>
    private void ApplyStep(List<(int Worker, long Version, torch.Tensor Update)> inputs)
    {
        inputs.Sort((a, b) => a.Worker != b.Worker ? a.Worker.CompareTo(b.Worker) : a.Version.CompareTo(b.Version));
        using var scope = torch.NewDisposeScope();
        var vectors = new List<torch.Tensor>(inputs.Count);
        foreach (var (worker, version, update) in inputs)
        {
            long s = _server.Version - version;
            _book.Accept(worker, s);
            if (_timing.StalenessWeighting && s > 0)
            {
                using var w = (1.0f / (1 + s)).ToScalar(); // explicit: a temporary Scalar may be finalized mid-call
                vectors.Add(update.mul(w));
            }
            else
            {
                vectors.Add(update);
            }
        }
        var context = new AggregationContext(_spec.Workers.Total, _spec.Workers.Byzantine, _server.Version, _rng);
        _server.Step(vectors, context);
        foreach (var (reason, count) in context.Dropped) _book.Drop(reason, -1, count);
        _book.UpdatesApplied += inputs.Count;
        _progress.ReportStep(_server.Version);

        bool last = _server.Version >= _spec.Steps;
        if (last || _server.Version % _spec.EvalEvery == 0) Evaluate(final: last);
        if (!last && _checkpointEvery > 0 && _server.Version % _checkpointEvery == 0)
        {
            var n = _network.Stats;
            _coordinator.Tell(new AggregatorCheckpoint(_server.Version, StatePayload(),
                _book.Counters(n.MessagesSent, n.BytesSent, n.BytesUplink, n.BytesUplinkUncompressed)));
        }
        if (last)
        {
            _finished = true;
            _coordinator.Tell(new TrainingFinished(_book.Stats(_server.Version, _clock.Now.TotalSeconds)));
        }
    }

    private TensorPayload StatePayload()
    {
        using var state = _server.State();
        return TensorPayload.FromTensor(state);
    }

    private void Evaluate(bool final)
    {
        var s = _network.Stats;
        var counters = new RunCounters(_server.Version, _book.UpdatesApplied, _clock.Now.TotalSeconds, s.MessagesSent, s.BytesSent, s.BytesUplink, s.BytesUplinkUncompressed);
        _evaluator.Tell(new EvaluateSnapshot(counters, CurrentModel(), final));
    }

    private TensorPayload CurrentModel()
    {
        if (_broadcastVersion != _server.Version || _broadcast is null)
        {
            _broadcast = TensorPayload.LocalFromTensor(_server.Parameters);
            _broadcastVersion = _server.Version;
        }
        return _broadcast;
    }

    private void Broadcast(IEnumerable<int> to)
    {
        var (model, isDelta) = BroadcastPayload();
        var message = new ModelBroadcast(_server.Version, model, isDelta);
        foreach (var w in to)
            _network.Send(-1, w, _workers[w], message, Self, model.SizeBytes, model.SizeBytes, LinkKind.Downlink);
    }

    /// <summary>
    /// The full model, or with compress-broadcast (sync/deadline: every worker sees every broadcast) the compressed
    /// difference between the model and what workers already hold. Tracking what they hold makes it error feedback.
    /// </summary>
    private (TensorPayload Payload, bool IsDelta) BroadcastPayload()
    {
        if (_broadcastCodec is null) return (CurrentModel(), false);
        if (_public is null)
        {
            _public = _server.Parameters.clone().DetachFromDisposeScope();
            return (CurrentModel(), false);
        }
        using var scope = torch.NewDisposeScope();
        var delta = _server.Parameters.sub(_public);
        var payload = _broadcastCodec.Encode(delta, _server.Version);
        using var applied = payload.ToTensor();
        _public.add_(applied);
        return (payload, true);
    }

    protected override void PostStop()
    {
        foreach (var (_, (_, t)) in _round) t.Dispose();
        foreach (var c in _carried) c.Update.Dispose();
        foreach (var b in _buffer) b.Update.Dispose();
        _server.Dispose();
        _public?.Dispose();
    }

    /// <summary>Accepted/dropped counts per worker, staleness histogram, and at-most-once bookkeeping.</summary>
    private sealed class UpdateBook(int workers)
    {
        private readonly long[] _lastVersion = Enumerable.Repeat(-1L, workers).ToArray();
        private readonly long[] _accepted = new long[workers];
        private readonly long[] _dropped = new long[workers];
        private readonly SortedDictionary<long, long> _staleness = [];
        private readonly Dictionary<string, long> _drops = new() { ["stale"] = 0, ["non_finite"] = 0, ["duplicate"] = 0, ["filtered"] = 0, ["malformed"] = 0 };

        public long UpdatesApplied { get; set; }

        /// <summary>True the first time a worker sends an update for this version (versions only move forward).</summary>
        public bool FirstFor(int worker, long version)
        {
            if (version <= _lastVersion[worker]) return false;
            _lastVersion[worker] = version;
            return true;
        }

        public void Accept(int worker, long staleness)
        {
            _accepted[worker]++;
            _staleness[staleness] = _staleness.GetValueOrDefault(staleness) + 1;
        }

        public void Drop(string reason, int worker, long count = 1)
        {
            _drops[reason] = _drops.GetValueOrDefault(reason) + count;
            if (worker >= 0) _dropped[worker] += count;
        }

        public AggregatorCounters Counters(long messages, long bytes, long uplink, long uplinkUncompressed) =>
            new(UpdatesApplied, messages, bytes, uplink, uplinkUncompressed, new Dictionary<string, long>(_drops), new SortedDictionary<long, long>(_staleness),
                [.. _accepted], [.. _dropped]);

        /// <summary>Continues from a checkpoint's totals (per-worker counts only when the worker count matches).</summary>
        public void Restore(AggregatorCounters c)
        {
            UpdatesApplied = c.UpdatesApplied;
            foreach (var (reason, count) in c.Drops) _drops[reason] = count;
            foreach (var (staleness, count) in c.Staleness) _staleness[staleness] = count;
            if (c.Accepted.Length == _accepted.Length) c.Accepted.CopyTo(_accepted, 0);
            if (c.Dropped.Length == _dropped.Length) c.Dropped.CopyTo(_dropped, 0);
        }

        public TrainingStats Stats(long steps, double virtualTime)
        {
            long n = _staleness.Values.Sum();
            double mean = n == 0 ? 0 : _staleness.Sum(kv => (double)kv.Key * kv.Value) / n;
            long max = _staleness.Count == 0 ? 0 : _staleness.Keys.Max();
            var perWorker = Enumerable.Range(0, _accepted.Length).Select(i => new WorkerCounts(i, _accepted[i], _dropped[i])).ToList();
            return new TrainingStats(steps, UpdatesApplied, virtualTime, new Dictionary<string, long>(_drops), mean, max,
                new SortedDictionary<long, long>(_staleness), perWorker);
        }
    }
}

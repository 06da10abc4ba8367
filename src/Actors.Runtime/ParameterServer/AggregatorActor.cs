using Actors.Learning.Aggregation;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Learning.Wire;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Protocol;
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
public sealed class AggregatorActor : SimulatedActor, IRoundHost
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
    private readonly RoundPolicy _policy;
    private torch.Tensor? _public; // what workers hold when broadcasts are compressed deltas

    private IReadOnlyList<IActorRef> _workers = [];
    private readonly HashSet<int> _live = [];
    private TensorPayload? _broadcast;
    private static readonly Learning.Compression.MaskedSparse Sparse = new();
    private long _broadcastVersion = -1;
    private bool _finished;
    private readonly bool _resendsModels;
    private readonly Dictionary<int, (long Version, TimeSpan At)> _rescued = []; // worker -> the server version last re-sent to it, and when
    private long _reentriesReported; // pruning: re-entries up to the previous evaluation

    /// <param name="resendsModels">
    /// Cluster mode, where a model can be lost on the way: a worker that sends an update for an older version again (it got no
    /// newer model, see <see cref="WorkerActor"/>) is sent the current model (once per server version, or again after a second).
    /// </param>
    public AggregatorActor(ExperimentSpec spec, ServerModel server, INetwork network, IClock clock, IActorRef evaluator, IActorRef coordinator, RunProgress progress,
        UpdateCodec? broadcastCodec = null, long checkpointEvery = 0, AggregatorCounters? resume = null, bool resendsModels = false)
    {
        _resendsModels = resendsModels;
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
        _policy = RoundPolicy.Create(spec.Timing, spec.Optimizer.AsyncScaling, this);
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
            _policy.Start();
        });
        Receive<WorkerUpdate>(OnUpdate);
        Receive<WorkerWithheld>(w =>
        {
            if (w.WorkerId < 0 || w.WorkerId >= _workers.Count) return;
            _book.Drop("vanished", w.WorkerId);
            _policy.Rejected(w.WorkerId, w.Version); // the round closes without it
        });
        Receive<WorkersLost>(lost =>
        {
            var gone = lost.WorkerIds.Where(_live.Remove).ToArray();
            if (!_finished) _policy.WorkersLost(gone);
        });
        Receive<RoundDeadline>(d => _policy.Deadline(d.Version));
        // Cluster: a peer that had too many updates in flight had this one refused before decoding (ClusterInbound's credit).
        Receive<LearningMessageRefused>(_ =>
        {
            int worker = -1;
            for (int i = 0; i < _workers.Count && worker < 0; i++) if (_workers[i].Equals(Sender)) worker = i;
            _book.Drop("flood", worker);
        });
    }

    public static Props Props(ExperimentSpec spec, ServerModel server, INetwork network, IClock clock, IActorRef evaluator, IActorRef coordinator, RunProgress progress,
        UpdateCodec? broadcastCodec = null, long checkpointEvery = 0, AggregatorCounters? resume = null, bool resendsModels = false) =>
        Akka.Actor.Props.Create(() => new AggregatorActor(spec, server, network, clock, evaluator, coordinator, progress, broadcastCodec, checkpointEvery, resume,
            resendsModels));

    long IRoundHost.Version => _server.Version;

    IReadOnlySet<int> IRoundHost.Live => _live;

    bool IRoundHost.Finished => _finished;

    /// <summary>Validates an update (sender, version, decodable, shape, finite, first of its worker for the version) and hands it to the round policy.</summary>
    private void OnUpdate(WorkerUpdate u)
    {
        if (_finished)
        {
            u.Update.Release();
            return;
        }
        if (!MessageSender.Path.Address.HasLocalScope) _network.Received(u.Update.SizeBytes, u.UncompressedBytes, LinkKind.Uplink);
        if (u.WorkerId < 0 || u.WorkerId >= _workers.Count)
        {
            u.Update.Release();
            _book.Drop("malformed", -1);
            return;
        }
        if (!_live.Contains(u.WorkerId))
        {
            u.Update.Release();
            _book.Drop("lost_worker", u.WorkerId); // a worker the run counted as crashed (its node unreachable) that was still sending
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
        if (update.numel() != _server.UpdateSize)
        {
            update.Dispose();
            _book.Drop("malformed", u.WorkerId);
            return;
        }
        if (!ServerModel.IsFinite(update))
        {
            update.Dispose();
            _book.Drop("non_finite", u.WorkerId);
            _policy.Rejected(u.WorkerId, u.Version); // a diverged worker has reported: rounds do not wait for it forever
            return;
        }
        if (!_book.FirstFor(u.WorkerId, u.Version))
        {
            update.Dispose();
            _book.Drop("duplicate", u.WorkerId); // at most one accepted message per worker per version (floods end here)
            // A worker resending an update for an older model (cluster: the model it was sent was lost) gets the current one:
            // at once for a version it was not re-sent yet, else at most once a second (the re-sent model may be lost too),
            // so a flood of duplicates cannot make the aggregator broadcast much more than it would anyway.
            var now = _clock.Now;
            if (_resendsModels && u.Version < _server.Version
                && (!_rescued.TryGetValue(u.WorkerId, out var last) || last.Version < _server.Version || now - last.At >= TimeSpan.FromSeconds(1)))
            {
                _rescued[u.WorkerId] = (_server.Version, now);
                // Full, not a delta: with compressed broadcasts, what every worker holds (_public), so later deltas stay in step.
                var model = _broadcastCodec is not null && _public is not null ? TensorPayload.FromTensor(_public) : CurrentModel();
                _network.Send(-1, u.WorkerId, _workers[u.WorkerId], new ModelBroadcast(_server.Version, model), Self, model.SizeBytes, model.SizeBytes, LinkKind.Downlink);
            }
            return;
        }
        _policy.Accept(new RoundInput(u.WorkerId, u.Version, update));
    }

    void IRoundHost.DropStale(int worker) => _book.Drop("stale", worker);

    void IRoundHost.ArmDeadline(TimeSpan delay) => _clock.After(delay, Self, new RoundDeadline(_server.Version), Self);

    void IRoundHost.Broadcast(IEnumerable<int> workers) => Broadcast(workers);

    /// <summary>Every live worker's latest update was unusable: the model (or every worker's state) diverged. The run ends here.</summary>
    void IRoundHost.Stalled()
    {
        if (_finished) return;
        _finished = true;
        Evaluate(final: true);
        _coordinator.Tell(new TrainingFinished(_book.Stats(_server.Version, _clock.Now.TotalSeconds, divergedAtStep: _server.Version), CurrentModel()));
    }

    /// <summary>One server step over the given updates (in worker order, so the result does not depend on arrival order within a round).</summary>
    void IRoundHost.Apply(List<RoundInput> inputs, double scale)
    {
        inputs.Sort((a, b) => a.Worker != b.Worker ? a.Worker.CompareTo(b.Worker) : a.Version.CompareTo(b.Version));
        using (var scope = torch.NewDisposeScope())
        {
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
            _server.Step(vectors, context, scale);
            foreach (var (reason, count) in context.Dropped) _book.Drop(reason, -1, count);
        }
        foreach (var i in inputs) i.Update.Dispose();
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
            _coordinator.Tell(new TrainingFinished(_book.Stats(_server.Version, _clock.Now.TotalSeconds), CurrentModel()));
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
        _evaluator.Tell(new EvaluateSnapshot(counters, CurrentModel(), final, PruningFigures()));
        var (mean, max) = _book.Staleness();
        _progress.ReportBook(_book.Drops(), mean, max); // what a live view shows between rows (the dashboard)
    }

    /// <summary>metrics.csv's pruning columns: the sparsity and the weights that came back into the mask since the previous evaluation.</summary>
    private double[]? PruningFigures()
    {
        if (_server.Pruner is not { } pruner) return null;
        long reentries = pruner.TotalReentries - _reentriesReported;
        _reentriesReported = pruner.TotalReentries;
        return [pruner.Sparsity, reentries];
    }

    private TensorPayload CurrentModel()
    {
        if (_broadcastVersion != _server.Version || _broadcast is null)
        {
            _broadcast = _server.Pruner is null ? TensorPayload.LocalFromTensor(_server.Parameters) : PrunedPayload();
            _broadcastVersion = _server.Version;
        }
        return _broadcast;
    }

    /// <summary>A pruned model goes out as mask + values, so the broadcast shrinks with the sparsity (dense while that is not smaller, e.g. before the ramp).</summary>
    private TensorPayload PrunedPayload()
    {
        var model = _server.Published;
        var sparse = TensorPayload.Local(Sparse.Compress(model, new Learning.Compression.CompressionContext(_server.Version, 0)));
        if (sparse.SizeBytes < TensorPayload.UncompressedSizeBytes(model.numel(), model.dtype)) return sparse;
        sparse.Release();
        return TensorPayload.LocalFromTensor(model);
    }

    private void Broadcast(IEnumerable<int> to)
    {
        var (model, isDelta) = BroadcastPayload();
        var message = new ModelBroadcast(_server.Version, model, isDelta);
        // A compressed delta costs the aggregator its encoding once and each worker its decoding (timing.compression-cost).
        var cost = isDelta && _broadcastCodec is { } codec ? codec.Cost.Encode(codec.Values) + codec.Cost.Decode(codec.Values) : TimeSpan.Zero;
        foreach (var w in to)
            _network.Send(-1, w, _workers[w], message, Self, model.SizeBytes, model.SizeBytes, LinkKind.Downlink, cost);
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
        _policy.Dispose();
        _server.Dispose();
        _public?.Dispose();
    }
}

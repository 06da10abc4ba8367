using Actors.Learning.Training;
using Actors.Learning.Wire;
using Actors.Runtime.Engine;
using Actors.Runtime.Protocol;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.Event;
using TorchSharp;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.ParameterServer;

/// <summary>
/// An honest worker: on a model version, computes its update (gradient + worker momentum) through its
/// <see cref="LocalTrainer"/>, waits out its modelled compute time, then sends the update to the aggregator.
/// A model that arrives while it is busy is kept; the newest one is used next.
/// </summary>
public sealed class WorkerActor : SimulatedActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    private readonly int _id;
    private readonly ILocalTrainer _trainer;
    private readonly UpdateCodec _codec;
    private torch.Tensor? _model; // the worker's own copy of the server model, made only for compressed delta broadcasts
    private ModelBroadcast? _full; // the latest full model (read in place when it is an in-process payload)
    private readonly INetwork _network;
    private readonly IClock _clock;
    private readonly NetworkModel _timingModel;
    private readonly bool _simulated;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef _aggregator = ActorRefs.Nobody;
    private IReadOnlyList<IActorRef> _taps = [];
    private ModelBroadcast? _pending;
    private (long Version, TensorPayload? Update)? _computed; // no update: the trainer's work was withheld
    private long _lastVersion = -1;
    private long _steps;
    private bool _waiting; // for a stateful trainer's fetch before computing, or its writes before sending
    private readonly TimeSpan _resendAfter;
    private WorkerUpdate? _lastSent; // kept (one share of its payload) while resending is on

    private sealed record Prepared(ModelBroadcast Model);

    private sealed record Written(long Version, TimeSpan Delay);

    /// <summary>No newer model arrived since the update for <c>Version</c> went out: send it again (after <c>Wait</c>, doubling).</summary>
    /// <remarks>One timer ("resend"): a new update replaces the previous check, so a stale one is never delivered.</remarks>
    private sealed record ResendCheck(long Version, TimeSpan Wait);

    /// <param name="resendAfter">
    /// Cluster mode (Akka delivers at most once): when no newer model arrived this long after an update went out, the update is
    /// sent again (the wait doubles each time, up to a minute). A lost update is then applied late; a lost model is answered by
    /// the aggregator, which sends the current model to a worker whose update is for an older version. Zero (simulation, in-process
    /// runs): off.
    /// </param>
    public WorkerActor(int id, ILocalTrainer trainer, UpdateCodec codec, INetwork network, IClock clock, NetworkModel model, bool simulated,
        TimeSpan resendAfter = default)
    {
        _resendAfter = resendAfter;
        _id = id;
        _trainer = trainer;
        _codec = codec;
        _network = network;
        _clock = clock;
        _timingModel = model;
        _simulated = simulated;
        Receive<Wire>(w =>
        {
            _aggregator = w.Aggregator;
            _taps = w.Byzantine;
            // A new aggregator (cluster failover) restarts from a checkpoint: its versions start over, forget the old ones.
            _lastVersion = -1;
            _pending = null;
            _computed = null;
            _waiting = false;
        });
        Receive<ModelBroadcast>(OnModel);
        Receive<ComputeDone>(OnComputeDone);
        Receive<ResendCheck>(OnResendCheck);
        Receive<Prepared>(p =>
        {
            _waiting = false;
            Compute(p.Model);
        });
        Receive<Written>(w =>
        {
            _waiting = false;
            _clock.After(w.Delay, Self, new ComputeDone(w.Version), Self);
        });
        // A stateful trainer's fetch or write failed (its store is unreachable): the worker fails, and with it the run, saying why.
        // Only its own fetches and writes (piped to itself) are the worker's to fail on; anything else is logged.
        Receive<Status.Failure>(f =>
        {
            if (!Sender.Equals(Self))
            {
                _log.Warning("worker {0}: a failure from {1} ignored: {2}", _id, Sender, f.Cause?.Message ?? "(no cause)");
                return;
            }
            throw new InvalidOperationException($"worker {_id}: the client state store failed: {f.Cause?.Message ?? "(no cause)"}", f.Cause);
        });
    }

    public static Props Props(int id, ILocalTrainer trainer, UpdateCodec codec, INetwork network, IClock clock, NetworkModel model, bool simulated,
        TimeSpan resendAfter = default) =>
        Akka.Actor.Props.Create(() => new WorkerActor(id, trainer, codec, network, clock, model, simulated, resendAfter));

    private void OnModel(ModelBroadcast m)
    {
        // Keep the model copy current even while busy: delta broadcasts must all be applied, in order.
        if (m.IsDelta)
        {
            if (_model is null && _full is null) throw new InvalidOperationException($"worker {_id}: a delta broadcast arrived before the first full model");
            _model ??= _full!.Model.ToTensor().DetachFromDisposeScope();
            using var delta = m.Model.ToTensor();
            _model.add_(delta);
        }
        else if (_full is null || m.Version >= _full.Version)
        {
            _model?.Dispose();
            _model = null;
            _full = m;
        }
        if (m.Version < _lastVersion) return; // an older model than the one already used
        if (_computed is not null || _waiting)
        {
            if (_pending is null || m.Version > _pending.Version) _pending = m;
            return;
        }
        Start(m);
    }

    private void Start(ModelBroadcast m)
    {
        _lastVersion = m.Version;
        if (_trainer is IStatefulTrainer stateful && stateful.Prepare() is { IsCompletedSuccessfully: false } fetching)
        {
            _waiting = true;
            fetching.PipeTo(Self, Self, () => new Prepared(m));
            return;
        }
        Compute(m);
    }

    private void Compute(ModelBroadcast m)
    {
        var started = DateTime.UtcNow;
        torch.Tensor? decoded = null;
        var parameters = _model ?? (_full!.Model.TryBorrowDense(out var borrowed) ? borrowed : decoded = _full.Model.ToTensor());
        var update = _trainer.ComputeUpdate(parameters); // a fresh tensor: the payload takes it over
        decoded?.Dispose();
        GC.KeepAlive(_full);
        if (_trainer.Withheld)
        {
            update.Dispose();
            _computed = (m.Version, null);
        }
        else
        {
            _computed = (m.Version, _codec.EncodeOwned(update, m.Version));
        }
        // Simulation: the modelled compute time, then encoding (timing.compression-cost); realtime: compute and encoding already
        // took real time, stragglers add an injected delay.
        TimeSpan delay;
        if (_simulated)
        {
            var compute = _timingModel.Compute(_id, _steps);
            var encode = _computed is { Update: not null } ? _codec.Cost.Encode(_codec.Values) : TimeSpan.Zero;
            _network.Stats.AddTime(compute, encode, TimeSpan.Zero);
            delay = compute + encode;
        }
        else
        {
            delay = _timingModel.IsStraggler(_id) ? (DateTime.UtcNow - started) * (_timingModel.Slowdown - 1) : TimeSpan.Zero;
        }
        _steps++;
        if (_trainer is IStatefulTrainer stateful && stateful.TakeWrites() is { IsCompletedSuccessfully: false } writing)
        {
            _waiting = true;
            writing.PipeTo(Self, Self, () => new Written(m.Version, delay));
            return;
        }
        _clock.After(delay, Self, new ComputeDone(m.Version), Self);
    }

    private void OnComputeDone(ComputeDone done)
    {
        if (_computed is not { } c || c.Version != done.Version) return;
        _computed = null;
        if (c.Update is not { } payload)
        {
            _network.Send(_id, -1, _aggregator, new WorkerWithheld(_id, c.Version), Self, 0, 0, LinkKind.Uplink);
        }
        else
        {
            var message = new WorkerUpdate(_id, c.Version, payload, _codec.UncompressedBytes);
            if (_resendAfter > TimeSpan.Zero)
            {
                _lastSent?.Update.Release();
                _lastSent = message with { Update = payload.Share() }; // our own hold: the receiver may take the one it gets
                Timers.StartSingleTimer("resend", new ResendCheck(c.Version, _resendAfter), _resendAfter);
            }
            _network.Send(_id, -1, _aggregator, message, Self, payload.SizeBytes, _codec.UncompressedBytes, LinkKind.Uplink, _codec.Cost.Decode(_codec.Values));
            // The omniscient attackers' tap: a copy as it is sent, through the clock so simulation order stays deterministic.
            foreach (var tap in _taps) _network.Tap(tap, new HonestTap(_id, c.Version, payload.Share()), Self, _clock);
        }
        if (_pending is { } next)
        {
            _pending = null;
            if (next.Version >= _lastVersion) Start(next);
        }
    }

    private void OnResendCheck(ResendCheck check)
    {
        // Still waiting on the model after this update: nothing newer started, nothing computing.
        if (_lastSent is not { } last || last.Version != check.Version || _lastVersion != check.Version
            || _computed is not null || _waiting || _pending is not null) return;
        _log.Info("worker {0}: no newer model {1:0.#} s after the update for version {2}: sending it again", _id, check.Wait.TotalSeconds, check.Version);
        var copy = last with { Update = last.Update.Share() };
        _network.Send(_id, -1, _aggregator, copy, Self, copy.Update.SizeBytes, _codec.UncompressedBytes, LinkKind.Uplink, _codec.Cost.Decode(_codec.Values));
        var wait = TimeSpan.FromTicks(Math.Min(check.Wait.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
        Timers.StartSingleTimer("resend", check with { Wait = wait }, wait);
    }

    // The trainer and codec belong to ParameterServerParts (they outlive the actor: benchmarks reuse them).
    protected override void PostStop()
    {
        _lastSent?.Update.Release();
        _model?.Dispose();
        _log.Debug("worker {0} stopped after {1} steps", _id, _steps);
    }
}

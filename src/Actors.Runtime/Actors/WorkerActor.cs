using Actors.Learning.Training;
using Actors.Runtime.Protocol;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.Event;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Actors;

/// <summary>
/// An honest worker: on a model version, computes its update (gradient + worker momentum) through its
/// <see cref="LocalTrainer"/>, waits out its modelled compute time, then sends the update to the aggregator.
/// A model that arrives while it is busy is kept; the newest one is used next.
/// </summary>
public sealed class WorkerActor : SimulatedActor
{
    private readonly int _id;
    private readonly LocalTrainer _trainer;
    private readonly INetwork _network;
    private readonly IClock _clock;
    private readonly NetworkModel _model;
    private readonly bool _simulated;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef _aggregator = ActorRefs.Nobody;
    private IReadOnlyList<IActorRef> _taps = [];
    private ModelBroadcast? _pending;
    private (long Version, TensorPayload Update)? _computed;
    private long _lastVersion = -1;
    private long _steps;

    public WorkerActor(int id, LocalTrainer trainer, INetwork network, IClock clock, NetworkModel model, bool simulated)
    {
        _id = id;
        _trainer = trainer;
        _network = network;
        _clock = clock;
        _model = model;
        _simulated = simulated;
        Receive<Wire>(w =>
        {
            _aggregator = w.Aggregator;
            _taps = w.Byzantine;
        });
        Receive<ModelBroadcast>(OnModel);
        Receive<ComputeDone>(OnComputeDone);
    }

    public static Props Props(int id, LocalTrainer trainer, INetwork network, IClock clock, NetworkModel model, bool simulated) =>
        Akka.Actor.Props.Create(() => new WorkerActor(id, trainer, network, clock, model, simulated));

    private void OnModel(ModelBroadcast m)
    {
        if (m.Version < _lastVersion) return; // an older model than the one already used
        if (_computed is not null)
        {
            if (_pending is null || m.Version > _pending.Version) _pending = m;
            return;
        }
        Start(m);
    }

    private void Start(ModelBroadcast m)
    {
        _lastVersion = m.Version;
        var started = DateTime.UtcNow;
        using var parameters = m.Model.ToTensor();
        using var update = _trainer.ComputeUpdate(parameters);
        _computed = (m.Version, TensorPayload.FromTensor(update));
        // Simulation: the modelled compute time; realtime: compute already took real time, stragglers add an injected delay.
        var delay = _simulated
            ? _model.Compute(_id, _steps)
            : _model.IsStraggler(_id) ? (DateTime.UtcNow - started) * (_model.Slowdown - 1) : TimeSpan.Zero;
        _steps++;
        _clock.After(delay, Self, new ComputeDone(m.Version), Self);
    }

    private void OnComputeDone(ComputeDone done)
    {
        if (_computed is not { } c || c.Version != done.Version) return;
        _computed = null;
        var message = new WorkerUpdate(_id, c.Version, c.Update, c.Update.SizeBytes);
        _network.Send(_id, -1, _aggregator, message, Self, c.Update.SizeBytes, c.Update.SizeBytes, LinkKind.Uplink);
        foreach (var tap in _taps) tap.Tell(new HonestTap(_id, c.Version, c.Update), Self);
        if (_pending is { } next)
        {
            _pending = null;
            if (next.Version >= _lastVersion) Start(next);
        }
    }

    protected override void PostStop()
    {
        _trainer.Dispose();
        _log.Debug("worker {0} stopped after {1} steps", _id, _steps);
    }
}

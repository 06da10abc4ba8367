using Actors.Learning.Training;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Protocol;
using Actors.Runtime.Running;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using static Actors.Runtime.Cluster.ClusterProtocol;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// Runs on every node at <c>/user/node</c>. The worker and aggregator actors hold local objects (trainers, codecs), so they are
/// never remote-deployed: the coordinator tells this agent what to host, and the agent builds the learning parts from the
/// experiment spec itself (same seeds, same data partition as a local run) and spawns the actors here.
/// </summary>
public sealed class NodeAgent : ReceiveActor
{
    public const string Name = "node";

    private readonly Dictionary<string, CheckpointAssembly> _checkpoints = [];
    private readonly Dictionary<string, byte[]> _complete = [];

    public NodeAgent()
    {
        Receive<CheckpointChunk>(c =>
        {
            if (!_checkpoints.TryGetValue(c.RunId, out var a)) _checkpoints[c.RunId] = a = new CheckpointAssembly();
            if (a.Add(c) is { } model) _complete[c.RunId] = model;
        });
        Receive<HostAggregator>(h => h.CheckpointVersion > 0, h =>
        {
            _checkpoints.Remove(h.RunId);
            if (!_complete.Remove(h.RunId, out var model))
            {
                h.Coordinator.Tell(new NodeFailed(h.RunId, $"the checkpoint at step {h.CheckpointVersion} did not arrive whole"));
                return;
            }
            var order = h with { CheckpointModel = model };
            Context.ActorOf(Props.Create(() => new AggregatorHost(order)).WithDispatcher(TensorDispatcher), $"aggregator-{h.RunId}");
        });
        Receive<HostAggregator>(h => Context.ActorOf((IsGossip(h.ExperimentHocon) ? Props.Create(() => new GossipHost(h)) : Props.Create(() => new AggregatorHost(h)))
            .WithDispatcher(TensorDispatcher), $"aggregator-{h.RunId}"));
        Receive<HostWorkers>(h => Context.ActorOf((IsGossip(h.ExperimentHocon) ? Props.Create(() => new PeerHost(h)) : Props.Create(() => new WorkerHost(h)))
            .WithDispatcher(TensorDispatcher), $"workers-{h.RunId}"));
        Receive<Rewire>(r => Context.Child($"workers-{r.RunId}").Forward(r));
        Receive<FinalTally>(t => Context.Child($"workers-{t.RunId}").Forward(t));
        Receive<EndRun>(e =>
        {
            foreach (var child in Context.GetChildren().Where(c => c.Path.Name.EndsWith("-" + e.RunId, StringComparison.Ordinal)))
                Context.Stop(child);
        });
    }

    public const string TensorDispatcher = "actors.tensor-dispatcher";

    // A host that fails reports it itself; never restart one (it would rebuild a run nobody waits for).
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    /// <summary>A gossip run is hosted by the gossip hosts; an unparsable one goes to the parameter-server hosts, which report why.</summary>
    private static bool IsGossip(string hocon)
    {
        try
        {
            return ConfigurationFactory.ParseString(hocon).GetString("experiment.kind", "") == Gossip.GossipKind.KindName;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }

    internal static ExperimentSpec ParseSpec(string hocon) => ExperimentKinds.Parse(ConfigurationFactory.ParseString(hocon).WithFallback(ExperimentConfig.Reference));
}

/// <summary>The aggregator and evaluator of one run on this node; relays their results to the coordinator and the client.</summary>
internal sealed class AggregatorHost : RunHost
{
    private readonly HostAggregator _order;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ParameterServerParts? _parts;
    private IActorRef _aggregator = ActorRefs.Nobody;
    private RunProgress _progress = new(0);
    private TrainingStats? _stats;
    private bool _finalEvaluated, _reported;

    public AggregatorHost(HostAggregator order)
        : base(order.RunId, order.Coordinator, "aggregator")
    {
        _order = order;
        Receive<StartRun>(s =>
        {
            var provider = ((ExtendedActorSystem)Context.System).Provider;
            var workers = s.WorkerPaths.Select(p => provider.ResolveActorRef(p)).ToArray();
            _aggregator.Tell(new Wire(_aggregator, workers, []));
            if (s.Crashed.Length > 0) _aggregator.Tell(new WorkersLost(s.Crashed));
            _aggregator.Tell(new StartTraining());
        });
        Receive<LoseWorkers>(l =>
        {
            _aggregator.Tell(new WorkersLost(l.WorkerIds));
            _order.Coordinator.Tell(new WorkersCrashed(_order.RunId, new CrashEvent(_progress.Step, l.WorkerIds, l.Node)));
        });
        Receive<EvaluationResult>(r =>
        {
            _order.Client.Tell(ClusterEvaluation.From(r));
            _order.Coordinator.Tell(new RunStep(_order.RunId, r.Counters.Step));
            if (r.Final) _finalEvaluated = true;
            TryReport();
        });
        Receive<TrainingFinished>(f =>
        {
            _stats = f.Stats;
            TryReport();
        });
        Receive<RunFailed>(f => _order.Coordinator.Tell(new NodeFailed(_order.RunId, f.Reason)));
        Receive<AggregatorCheckpoint>(c =>
        {
            foreach (var chunk in CheckpointChunk.Split(_order.RunId, c.Version, CheckpointBlob.Encode(c.Model, c.Counters))) _order.Coordinator.Tell(chunk);
        });
    }

    protected override void Build()
    {
        var spec = Spec(_order.ExperimentHocon);
        _parts = ClusterKinds.Parts(spec, w => _log.Warning(w));
        _progress = new RunProgress(spec.Steps);
        var scheduler = Context.System.Scheduler;
        var evaluator = Context.ActorOf(EvaluatorActor.Props(_parts.Evaluator, Self).WithDispatcher(NodeAgent.TensorDispatcher), "evaluator");
        if (ClusterKinds.Clients(_parts) is not null) Context.ActorOf(Props.Create(() => new ClientStateStoreActor()), ClientStateStoreActor.Name);
        var server = _parts.CreateServer();
        AggregatorCounters? resume = null;
        if (_order.CheckpointModel is { } checkpoint)
        {
            (var state, resume) = CheckpointBlob.Decode(checkpoint);
            using var model = Learning.Wire.TensorPayload.Decode(state).ToTensor();
            server.Restore(model, _order.CheckpointVersion);
            _log.Warning("run {0}: aggregator resumes from the checkpoint at step {1}", _order.RunId, _order.CheckpointVersion);
        }
        long checkpointEvery = spec.Cluster.CheckpointEvery;
        _aggregator = Context.ActorOf(AggregatorActor.Props(spec, server, new ClusterNetwork(Context.System, new NetworkModel(spec.Timing, spec.Seed, spec.Workers.Total)), new RealtimeClock(scheduler), evaluator, Self, _progress, _parts.BroadcastCodec, checkpointEvery, resume, resendsModels: true)
            .WithDispatcher(NodeAgent.TensorDispatcher), "aggregator");
        _order.Coordinator.Tell(new AggregatorReady(_order.RunId, Self, _aggregator, _parts.DataSource, _parts.ParameterCount));
    }

    private void TryReport()
    {
        if (_reported || _stats is null || !_finalEvaluated) return;
        _reported = true;
        _order.Coordinator.Tell(new AggregatorFinished(_order.RunId, ClusterStats.From(_stats)));
    }

    // Children (aggregator, evaluator) have stopped by now: their parts can go.
    protected override void PostStop() => _parts?.Dispose();
}

/// <summary>
/// Some workers of one run on this node: honest workers and Byzantine actors alike (ids from <c>workers.honest</c> up), the same
/// actors as a local run. The honest ones tap their updates to the attackers of an omniscient attack wherever those live.
/// </summary>
internal sealed class WorkerHost : RunHost
{
    private readonly HostWorkers _order;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CollusionBoard _collusion = new();
    private readonly List<IActorRef> _honest = [], _byzantine = [];
    private ParameterServerParts? _parts;
    private ClusterNetwork? _network;
    private ICancelable? _load;
    private IActorRef[] _taps = [];
    private string[] _paths = [];

    public WorkerHost(HostWorkers order)
        : base(order.RunId, order.Coordinator, "workers")
    {
        _order = order;
        Receive<Rewire>(r =>
        {
            // Local tells: every worker has the new Wire before the coordinator (on this reply) lets the new aggregator broadcast.
            Point(r.Aggregator);
            Sender.Tell(new WorkersReady(_order.RunId, _order.WorkerIds, _paths));
        });
        Receive<ReportLoad>(_ => _order.Coordinator.Tell(Load(final: false)));
        Receive<FinalTally>(_ =>
        {
            // The run's last step is applied: stop sending, then report the final counts (what was sent is counted already).
            _load?.Cancel();
            foreach (var worker in _honest.Concat(_byzantine)) Context.Stop(worker);
            Sender.Tell(Load(final: true));
        });
    }

    private NodeLoad Load(bool final) =>
        new(_order.RunId, _network?.Stats.MessagesSent ?? 0, _order.WorkerIds, [.. _order.WorkerIds.Select(id => _network?.UpdatesSentBy(id) ?? 0)], final);

    private sealed record ReportLoad;

    /// <summary><c>actors.cluster.resend-after</c>: how long a worker waits for a newer model before sending its update again (0 = never).</summary>
    private static TimeSpan ResendAfter(ActorSystem system) => system.Settings.Config.GetTimeSpan("actors.cluster.resend-after", TimeSpan.FromSeconds(5), allowInfinite: false);

    private void Point(IActorRef aggregator)
    {
        foreach (var worker in _honest) worker.Tell(new Wire(aggregator, [], _taps));
        foreach (var attacker in _byzantine) attacker.Tell(new Wire(aggregator, [], []));
    }

    protected override void Build()
    {
        var spec = Spec(_order.ExperimentHocon);
        _parts = ClusterKinds.Parts(spec, w => _log.Warning(w));
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        if (ClusterKinds.Clients(_parts) is { } clients)
            clients.UseStore(new RemoteClientStateStore(Context.System, provider.ResolveActorRef(_order.Aggregator.Path.Parent / ClientStateStoreActor.Name), TimeSpan.FromSeconds(60)));
        var timing = new NetworkModel(spec.Timing, spec.Seed, spec.Workers.Total);
        var network = _network = new ClusterNetwork(Context.System, timing);
        var clock = new RealtimeClock(Context.System.Scheduler);
        int honest = spec.Workers.Honest;
        var paths = new string[_order.WorkerIds.Length];
        for (int k = 0; k < _order.WorkerIds.Length; k++)
        {
            int id = _order.WorkerIds[k];
            var props = id < honest
                ? WorkerActor.Props(id, _parts.Honest[id], _parts.Codecs[id], network, clock, timing, simulated: false, ResendAfter(Context.System))
                : ByzantineActor.Props(id, honest, spec.Workers.Total, spec.Workers.Byzantine, _parts.Attacks[id - honest], _parts.Byzantine[id - honest],
                    _parts.ByzantineCodecs[id - honest], network, clock, timing, simulated: false, spec.Timing.VersionedRounds, spec.Seed, _collusion);
            var worker = Context.ActorOf(props.WithDispatcher(NodeAgent.TensorDispatcher), $"worker-{id}");
            (id < honest ? _honest : _byzantine).Add(worker);
            paths[k] = worker.Path.ToStringWithAddress(provider.DefaultAddress);
        }
        // Resolved once this node's attackers exist: a local path resolves to the actor only if it is there already.
        _taps = [.. _order.PeerPaths.Select(provider.ResolveActorRef)];
        Point(_order.Aggregator);
        _paths = paths;
        _order.Coordinator.Tell(new WorkersReady(_order.RunId, _order.WorkerIds, paths));
        _load = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), Self, new ReportLoad(), Self);
    }

    // The children have stopped by now: their parts and the shared crafting board can go.
    protected override void PostStop()
    {
        _load?.Cancel();
        _collusion.Dispose();
        _parts?.Dispose();
    }
}

using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Gossip;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.Event;
using static Actors.Runtime.Cluster.ClusterProtocol;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// A gossip run's centre on the aggregator node: the same <see cref="TopologyActor"/> and <see cref="GossipEvaluatorActor"/> as
/// locally. The peers report their steps here (forwarded to the topology actor); a lost worker node is peers gone for good
/// (<see cref="PeersLost"/>: the topology re-plans without them, the evaluator averages the live ones). Rows go to the client
/// with the bytes the peers counted where they sent them.
/// </summary>
internal sealed class GossipHost : RunHost
{
    private readonly HostAggregator _order;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ExperimentSpec? _spec;
    private GossipParts? _parts;
    private IActorRef _evaluator = ActorRefs.Nobody, _topology = ActorRefs.Nobody;
    private RunProgress _progress = new(0);
    private long _modelBytes;
    private GossipFinished? _finished;
    private bool _finalSent, _reported;

    public GossipHost(HostAggregator order)
        : base(order.RunId, order.Coordinator, "gossip host")
    {
        _order = order;
        Receive<StartRun>(s =>
        {
            var spec = _spec!;
            var provider = ((ExtendedActorSystem)Context.System).Provider;
            var peers = s.WorkerPaths.Select(p => provider.ResolveActorRef(p)).ToArray();
            var timing = new NetworkModel(spec.Timing, spec.Seed, peers.Length);
            _topology = Context.ActorOf(TopologyActor.Props(_parts!.Topology, peers, new RealtimeClock(Context.System.Scheduler), new ClusterNetwork(Context.System, timing),
                _evaluator, Self, ActorRefs.Nobody, _progress, spec.Steps, spec.EvalEvery, spec.Timing.Mode == TimingMode.Async)
                .WithDispatcher(NodeAgent.TensorDispatcher), "topology");
            if (s.Crashed.Length > 0) Lose(s.Crashed);
            _topology.Tell(new TopologyActor.Start());
        });
        Receive<StepDone>(d => _topology.Forward(d));
        Receive<LocalStepDone>(d => _topology.Forward(d));
        Receive<LoseWorkers>(l =>
        {
            Lose(l.WorkerIds);
            _order.Coordinator.Tell(new WorkersCrashed(_order.RunId, new CrashEvent(_progress.Step, l.WorkerIds, l.Node)));
        });
        Receive<GossipEvaluation>(e =>
        {
            // The peers count what they send on their own nodes: the run's totals are their sums (as the local network's).
            long messages = e.PerNode.Sum(p => p.MessagesSent), bytes = e.PerNode.Sum(p => p.BytesSent);
            var counters = e.Counters with { MessagesSent = messages, BytesSent = bytes, BytesUplink = bytes, BytesUplinkUncompressed = messages * _modelBytes };
            _order.Client.Tell(ClusterGossipEvaluation.From(e with { Counters = counters }));
            _order.Coordinator.Tell(new RunStep(_order.RunId, e.Counters.Step));
            _finalSent |= e.Final;
            TryFinish();
        });
        Receive<GossipFinished>(f =>
        {
            _finished = f;
            TryFinish();
        });
    }

    // The run ends (and this host with it) only once the final row is out: its snapshots may still be on the side channel.
    private void TryFinish()
    {
        if (_finished is not { } f || !_finalSent || _reported) return;
        _reported = true;
        _order.Coordinator.Tell(new GossipHostFinished(_order.RunId, f.Steps, f.UpdatesApplied, f.VirtualTimeS, f.Leaves, f.Rejoins, f.Lost));
    }

    private void Lose(int[] peers)
    {
        _topology.Tell(new PeersLost(peers));
        _evaluator.Tell(new PeersLost(peers));
    }

    protected override void Build()
    {
        _spec = Spec(_order.ExperimentHocon);
        _parts = GossipParts.Build(_spec, w => _log.Warning(w));
        _progress = new RunProgress(_spec.Steps);
        using (var x0 = _parts.Problem.InitialModel()) _modelBytes = x0.numel() * x0.ElementSize;
        _evaluator = Context.ActorOf(GossipEvaluatorActor.Props(_parts, Self).WithDispatcher(NodeAgent.TensorDispatcher), "evaluator");
        _order.Coordinator.Tell(new AggregatorReady(_order.RunId, Self, Self, _parts.DataSource, _parts.Problem.Dimension));
    }

    protected override void PostStop() => _parts?.Dispose();
}

/// <summary>Some peers of one gossip run on this node: the same <see cref="PeerActor"/>s as locally, wired to every peer by id.</summary>
internal sealed class PeerHost : RunHost
{
    private readonly HostWorkers _order;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private GossipParts? _parts;

    public PeerHost(HostWorkers order)
        : base(order.RunId, order.Coordinator, "peers") => _order = order;

    protected override void Build()
    {
        var spec = Spec(_order.ExperimentHocon);
        _parts = GossipParts.Build(spec, w => _log.Warning(w));
        int n = _parts.Nodes.Count;
        var timing = new NetworkModel(spec.Timing, spec.Seed, n);
        var network = new ClusterNetwork(Context.System, timing);
        var clock = new RealtimeClock(Context.System.Scheduler);
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        var local = new List<IActorRef>();
        var paths = new string[_order.WorkerIds.Length];
        for (int k = 0; k < _order.WorkerIds.Length; k++)
        {
            int id = _order.WorkerIds[k];
            var peer = Context.ActorOf(PeerActor.Props(id, _parts.Nodes[id], _parts.Problem, network, clock, timing, simulated: false, spec.Seed)
                .WithDispatcher(NodeAgent.TensorDispatcher), $"worker-{id}");
            local.Add(peer);
            paths[k] = peer.Path.ToStringWithAddress(provider.DefaultAddress);
        }
        // Resolved once this node's peers exist (a local path resolves to the actor only if it is there already).
        var wire = new PeerWire([.. _order.PeerPaths.Select(provider.ResolveActorRef)], _order.Aggregator);
        foreach (var peer in local) peer.Tell(wire);
        _order.Coordinator.Tell(new WorkersReady(_order.RunId, _order.WorkerIds, paths));
    }

    protected override void PostStop() => _parts?.Dispose();
}

using Actors.Runtime.Actors;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;
using Actors.Runtime.Simulation;
using Akka.Actor;
using static Actors.Runtime.Gossip.GossipProtocol;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>What a finished gossip run hands back: every metrics row (the last is final) and the totals.</summary>
public sealed record GossipOutcome(IReadOnlyList<GossipEvaluation> Rows, GossipFinished Totals, long EventsReleased);

/// <summary>
/// Spawns a gossip run's actors (clock, evaluator, one PeerActor per node, the TopologyActor), writes metrics rows as
/// they come and ends the run. A child that throws ends the run with its error.
/// </summary>
public sealed class GossipCoordinator : ReceiveActor
{
    private readonly ExperimentSpec _spec;
    private readonly GossipParts _parts;
    private readonly GossipMetrics _metrics;
    private readonly RunProgress _progress;
    private readonly TaskCompletionSource<GossipOutcome> _done;
    private readonly SimulationScheduler? _scheduler;
    private readonly List<GossipEvaluation> _rows = [];
    private IActorRef _clock = ActorRefs.Nobody;
    private GossipFinished? _totals;
    private bool _final;

    public GossipCoordinator(ExperimentSpec spec, GossipParts parts, GossipMetrics metrics, RunProgress progress, TaskCompletionSource<GossipOutcome> done)
    {
        _spec = spec;
        _parts = parts;
        _metrics = metrics;
        _progress = progress;
        _done = done;
        if (spec.IsSimulation) _scheduler = new SimulationScheduler();
        Receive<GossipEvaluation>(r =>
        {
            _rows.Add(r);
            _metrics.Append(r);
            _progress.ReportEvaluation(r.TestLoss, r.TestAccuracy);
            if (r.Final) _final = true;
            TryComplete();
        });
        Receive<GossipFinished>(f =>
        {
            _totals = f;
            TryComplete();
        });
        Receive<SimulationClock.Idle>(i =>
        {
            if (_totals is null)
                Fail($"the simulation ran out of events at step {_progress.Step} of {_spec.Steps} (virtual time {i.Now.TotalSeconds:0.###} s): no peer can make progress");
        });
        Receive<RunFailed>(f => Fail(f.Reason));
    }

    public static Props Props(ExperimentSpec spec, GossipParts parts, GossipMetrics metrics, RunProgress progress, TaskCompletionSource<GossipOutcome> done) =>
        Akka.Actor.Props.Create(() => new GossipCoordinator(spec, parts, metrics, progress, done));

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        Self.Tell(new RunFailed($"{e.GetType().Name}: {e.Message}"));
        return Directive.Stop;
    });

    protected override void PreStart()
    {
        var spec = _spec;
        int n = _parts.Nodes.Count;
        var model = new NetworkModel(spec.Timing, spec.Seed, n);
        IClock clock;
        INetwork network;
        if (_scheduler is not null)
        {
            clock = _scheduler;
            network = new SimulatedNetwork(_scheduler, model);
            _clock = Context.ActorOf(Akka.Actor.Props.Create(() => new SimulationClock(_scheduler, Self)).WithDispatcher("actors.tensor-dispatcher"), "clock");
        }
        else
        {
            clock = new RealtimeClock(Context.System.Scheduler);
            network = new RealtimeNetwork(Context.System.Scheduler);
        }
        var evaluator = Context.ActorOf(GossipEvaluatorActor.Props(_parts, Self).WithDispatcher("actors.evaluator-dispatcher"), "evaluator");
        var peers = Enumerable.Range(0, n)
            .Select(i => Context.ActorOf(PeerActor.Props(i, _parts.Nodes[i], _parts.Problem, network, clock, model, _scheduler is not null, spec.Seed)
                .WithDispatcher("actors.tensor-dispatcher"), $"peer-{i}"))
            .ToList();
        var topology = Context.ActorOf(TopologyActor.Props(_parts.Topology, peers, clock, network, evaluator, Self, _clock, _progress,
            spec.Steps, spec.EvalEvery, spec.Timing.Mode == "async").WithDispatcher("actors.tensor-dispatcher"), "topology");
        var wire = new PeerWire(peers, topology);
        foreach (var p in peers) p.Tell(wire);
        if (_scheduler is not null)
        {
            _scheduler.At(TimeSpan.Zero, topology, new TopologyActor.Start(), Self);
            _clock.Tell(new SimulationClock.Start());
        }
        else
        {
            topology.Tell(new TopologyActor.Start());
        }
    }

    private void TryComplete()
    {
        if (_totals is null || !_final) return;
        _done.TrySetResult(new GossipOutcome(_rows, _totals, _scheduler?.EventsReleased ?? 0));
    }

    private void Fail(string reason)
    {
        _clock.Tell(new SimulationClock.Halt());
        _done.TrySetException(new RunFailedException(reason));
    }
}

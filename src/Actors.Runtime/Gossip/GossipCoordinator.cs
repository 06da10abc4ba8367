using Actors.Runtime.Engine;
using Actors.Runtime.ParameterServer;
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
public sealed class GossipCoordinator : RunCoordinator
{
    private readonly ExperimentSpec _spec;
    private readonly GossipParts _parts;
    private readonly GossipMetrics _metrics;
    private readonly RunProgress _progress;
    private readonly TaskCompletionSource<GossipOutcome> _done;
    private readonly List<GossipEvaluation> _rows = [];
    private GossipFinished? _totals;
    private bool _final;

    public GossipCoordinator(ExperimentSpec spec, GossipParts parts, GossipMetrics metrics, RunProgress progress, TaskCompletionSource<GossipOutcome> done)
        : base(spec.IsSimulation, "no peer can make progress")
    {
        _spec = spec;
        _parts = parts;
        _metrics = metrics;
        _progress = progress;
        _done = done;
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
    }

    public static Props Props(ExperimentSpec spec, GossipParts parts, GossipMetrics metrics, RunProgress progress, TaskCompletionSource<GossipOutcome> done) =>
        Akka.Actor.Props.Create(() => new GossipCoordinator(spec, parts, metrics, progress, done));

    protected override bool Finished => _totals is not null;

    protected override string StepForErrors => $"{_progress.Step} of {_spec.Steps}";

    protected override void OnFailed(RunFailedException error) => _done.TrySetException(error);

    protected override void PreStart()
    {
        var spec = _spec;
        int n = _parts.Nodes.Count;
        var model = new NetworkModel(spec.Timing, spec.Seed, n);
        var (clock, network) = CreateTiming(model);
        var evaluator = Context.ActorOf(GossipEvaluatorActor.Props(_parts, Self).WithDispatcher("actors.evaluator-dispatcher"), "evaluator");
        var peers = Enumerable.Range(0, n)
            .Select(i => Context.ActorOf(PeerActor.Props(i, _parts.Nodes[i], _parts.Problem, network, clock, model, IsSimulation, spec.Seed)
                .WithDispatcher("actors.tensor-dispatcher"), $"peer-{i}"))
            .ToList();
        var topology = Context.ActorOf(TopologyActor.Props(_parts.Topology, peers, clock, network, evaluator, Self, ClockActor, _progress,
            spec.Steps, spec.EvalEvery, spec.Timing.Mode == TimingMode.Async).WithDispatcher("actors.tensor-dispatcher"), "topology");
        var wire = new PeerWire(peers, topology);
        foreach (var p in peers) p.Tell(wire);
        Start(topology, new TopologyActor.Start());
    }

    private void TryComplete()
    {
        if (_totals is null || !_final) return;
        _done.TrySetResult(new GossipOutcome(_rows, _totals, EventsReleased));
    }
}

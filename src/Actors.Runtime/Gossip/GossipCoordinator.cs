using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Protocol;
using Actors.Runtime.Simulation;
using Akka.Actor;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>
/// Spawns a gossip run's actors (clock, evaluator, one PeerActor per node, the TopologyActor), writes metrics rows as
/// they come and ends the run. A child that throws ends the run with its error. A row whose average model has a
/// non-finite loss ends the run there as diverged (nothing after it can be better).
/// </summary>
public sealed class GossipCoordinator : RunCoordinator
{
    private readonly ExperimentSpec _spec;
    private readonly GossipParts _parts;
    private readonly RunContext _run;
    private readonly RunProgress _progress;
    private GossipEvaluation? _last;
    private GossipFinished? _totals;
    private bool _final, _done;

    public GossipCoordinator(GossipParts parts, RunContext run)
        : base(run.Spec.IsSimulation, "no peer can make progress")
    {
        _spec = run.Spec;
        _parts = parts;
        _run = run;
        _progress = run.Progress;
        Receive<GossipEvaluation>(r =>
        {
            if (_done) return;
            _last = r;
            _run.Sink.Append(GossipKind.Row(r));
            _progress.ReportEvaluation(r.TestLoss, r.TestAccuracy);
            if (r.Final) _final = true;
            if (!double.IsFinite(r.TestLoss) && !r.Final)
            {
                // Diverged: stop the clock and report the run as it is at this step.
                HaltClock();
                _totals = new GossipFinished(r.Counters.Step, r.Counters.UpdatesApplied, r.Counters.VirtualTimeS, 0, 0);
                _final = true;
            }
            TryComplete();
        });
        Receive<GossipFinished>(f =>
        {
            _totals ??= f;
            TryComplete();
        });
    }

    public static Props Props(GossipParts parts, RunContext run) => Akka.Actor.Props.Create(() => new GossipCoordinator(parts, run));

    protected override bool Finished => _totals is not null;

    protected override string StepForErrors => $"{_progress.Step} of {_spec.Steps}";

    protected override void OnFailed(RunFailedException error) => _run.Done.TrySetException(error);

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
        if (_totals is not { } t || !_final || _last is not { } last || _done) return;
        _done = true;
        var stats = new TrainingStats(t.Steps, t.UpdatesApplied, t.VirtualTimeS, GossipKind.Drops(last), 0, 0, new Dictionary<long, long>(),
            last.PerNode.Select((c, i) => new WorkerCounts(i, c.LocalSteps, c.Dropped)).ToList());
        _run.Done.TrySetResult(new RunOutcome(stats, GossipKind.Row(last), EventsReleased, GossipKind.Figures(_parts, last, t.Leaves, t.Rejoins)));
    }
}

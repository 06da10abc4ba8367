using Actors.Learning.Training;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Actors.Runtime.Protocol;
using Actors.Runtime.Running;
using Actors.Runtime.Simulation;
using Akka.Actor;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Actors;

/// <summary>What a finished run hands back to its caller.</summary>
public sealed record RunOutcome(TrainingStats Stats, EvaluationResult Final, long EventsReleased);

/// <summary>
/// Spawns the experiment's actors, drives evaluation output (metrics rows as they come) and ends the run.
/// A child that throws ends the run with its error instead of being silently restarted.
/// </summary>
public sealed class ExperimentCoordinator : ReceiveActor
{
    private readonly ExperimentSpec _spec;
    private readonly ExperimentParts _parts;
    private readonly RunDirectory _dir;
    private readonly RunProgress _progress;
    private readonly TaskCompletionSource<RunOutcome> _done;
    private readonly SimulationScheduler? _scheduler;
    private IActorRef _clock = ActorRefs.Nobody;
    private TrainingStats? _stats;
    private EvaluationResult? _final;

    public ExperimentCoordinator(ExperimentSpec spec, ExperimentParts parts, RunDirectory dir, RunProgress progress, TaskCompletionSource<RunOutcome> done)
    {
        _spec = spec;
        _parts = parts;
        _dir = dir;
        _progress = progress;
        _done = done;
        if (spec.IsSimulation) _scheduler = new SimulationScheduler();

        Receive<EvaluationResult>(r =>
        {
            _dir.AppendMetrics(r);
            _progress.ReportEvaluation(r.TestLoss, r.TestAccuracy);
            if (r.Final) _final = r;
            TryComplete();
        });
        Receive<TrainingFinished>(f =>
        {
            _stats = f.Stats;
            _clock.Tell(new SimulationClock.Halt());
            TryComplete();
        });
        Receive<SimulationClock.Idle>(i =>
        {
            if (_stats is null)
                Fail($"the simulation ran out of events at step {_progress.Step} of {_spec.Steps} (virtual time {i.Now.TotalSeconds:0.###} s): no worker update can arrive any more");
        });
        Receive<RunFailed>(f => Fail(f.Reason));
    }

    public static Props Props(ExperimentSpec spec, ExperimentParts parts, RunDirectory dir, RunProgress progress, TaskCompletionSource<RunOutcome> done) =>
        Akka.Actor.Props.Create(() => new ExperimentCoordinator(spec, parts, dir, progress, done));

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        Self.Tell(new RunFailed($"{e.GetType().Name}: {e.Message}"));
        return Directive.Stop;
    });

    protected override void PreStart()
    {
        var spec = _spec;
        var model = new NetworkModel(spec.Timing, spec.Seed, spec.Workers.Total);
        IClock clock;
        INetwork network;
        if (_scheduler is not null)
        {
            clock = _scheduler;
            network = new SimulatedNetwork(_scheduler, model);
            // Same single thread as the actors it drives: releasing an event is then a mailbox hand-off, not an OS thread wake-up.
            _clock = Context.ActorOf(Akka.Actor.Props.Create(() => new SimulationClock(_scheduler, Self)).WithDispatcher("actors.tensor-dispatcher"), "clock");
        }
        else
        {
            clock = new RealtimeClock(Context.System.Scheduler);
            network = new RealtimeNetwork(Context.System.Scheduler);
        }

        var evaluator = Context.ActorOf(EvaluatorActor.Props(_parts.Evaluator, Self).WithDispatcher("actors.evaluator-dispatcher"), "evaluator");
        var server = new ParameterServer(_parts.InitialModel, _parts.Aggregator, spec.Optimizer.Lr, spec.Optimizer.ServerMomentumBeta, spec.Optimizer.MomentumForm);
        var aggregator = Context.ActorOf(AggregatorActor.Props(spec, server, network, clock, evaluator, Self, _progress, _parts.BroadcastCodec)
            .WithDispatcher("actors.tensor-dispatcher"), "aggregator");
        var workers = _parts.Honest.Select((t, i) =>
            Context.ActorOf(WorkerActor.Props(i, t, _parts.Codecs[i], network, clock, model, _scheduler is not null).WithDispatcher("actors.tensor-dispatcher"), $"worker-{i}")).ToList();
        bool versionedRounds = spec.Timing.Mode is "sync" or "deadline";
        IReadOnlyList<IActorRef> byzantine = _parts.Byzantine.Select((t, b) =>
            Context.ActorOf(ByzantineActor.Props(spec.Workers.Honest + b, spec.Workers.Honest, spec.Workers.Total, spec.Workers.Byzantine, _parts.Attacks[b], t,
                _parts.ByzantineCodecs[b], network, clock, model, _scheduler is not null, versionedRounds, spec.Seed)
                .WithDispatcher("actors.tensor-dispatcher"), $"byzantine-{b}")).ToList();

        var wire = new Wire(aggregator, workers, byzantine);
        aggregator.Tell(wire);
        foreach (var b in byzantine) b.Tell(wire);
        // Honest workers tap their updates to the attackers only when the attack is omniscient.
        var workerWire = spec.Attack.Omniscient ? wire : wire with { Byzantine = [] };
        foreach (var w in workers) w.Tell(workerWire);
        if (_scheduler is not null)
        {
            // StartTraining is the first event of virtual time.
            _scheduler.At(TimeSpan.Zero, aggregator, new StartTraining(), Self);
            _clock.Tell(new SimulationClock.Start());
        }
        else
        {
            aggregator.Tell(new StartTraining());
        }
    }

    private void TryComplete()
    {
        if (_stats is null || _final is null) return;
        _done.TrySetResult(new RunOutcome(_stats, _final, _scheduler?.EventsReleased ?? 0));
    }

    private void Fail(string reason)
    {
        _clock.Tell(new SimulationClock.Halt());
        _done.TrySetException(new RunFailedException(reason));
    }
}

public sealed class RunFailedException(string message) : Exception(message);

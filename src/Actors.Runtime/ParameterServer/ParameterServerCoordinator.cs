using Actors.Learning.Util;
using Actors.Learning.Training;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Protocol;
using Actors.Runtime.Simulation;
using Akka.Actor;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.ParameterServer;

/// <summary>
/// Spawns the experiment's actors, drives evaluation output (metrics rows as they come) and ends the run.
/// A child that throws ends the run with its error instead of being silently restarted.
/// </summary>
public sealed class ParameterServerCoordinator : RunCoordinator
{
    private readonly ExperimentSpec _spec;
    private readonly ParameterServerParts _parts;
    private readonly RunContext _run;
    private readonly RunProgress _progress;
    private readonly CollusionBoard _collusion = new();
    private TrainingStats? _stats;
    private MetricsRow? _final;
    private long _reentries;
    private float[]? _model;

    public ParameterServerCoordinator(ParameterServerParts parts, RunContext run)
        : base(run.Spec.IsSimulation, "no worker update can arrive any more")
    {
        _spec = run.Spec;
        _parts = parts;
        _run = run;
        _progress = run.Progress;

        Receive<EvaluationResult>(r =>
        {
            var row = new MetricsRow(r);
            if (r.Samples is { } samples) _run.Sink.WriteSamples(r.Counters.Step, samples);
            if (row.Extras.Count >= 2) _reentries += (long)row.Extras[1];
            _run.Sink.Append(row);
            _progress.ReportEvaluation(r.TestLoss, r.TestAccuracy);
            if (r.Final) _final = row;
            TryComplete();
        });
        Receive<TrainingFinished>(f =>
        {
            _stats = f.Stats;
            if (f.Model is { } model)
            {
                using var dense = model.ToTensor();
                using var values = dense.to(TorchSharp.torch.ScalarType.Float32);
                _model = values.ToHostArray<float>();
            }
            HaltClock();
            TryComplete();
        });
    }

    public static Props Props(ParameterServerParts parts, RunContext run) => Akka.Actor.Props.Create(() => new ParameterServerCoordinator(parts, run));

    protected override bool Finished => _stats is not null;

    protected override string StepForErrors => $"{_progress.Step} of {_spec.Steps}";

    protected override void OnFailed(RunFailedException error) => _run.Done.TrySetException(error);

    protected override void PreStart()
    {
        var spec = _spec;
        var model = new NetworkModel(spec.Timing, spec.Seed, spec.Workers.Total);
        var (clock, network) = CreateTiming(model);
        _network = network;
        if (IsSimulation && AnyCodec is { Cost.IsFree: false } codec)
            _run.Sink.WriteFile("compression-cost.json", Output.RunDirectory.ToJson(codec.Cost.ToJson(codec.Values)) + "\n");

        var evaluator = Context.ActorOf(EvaluatorActor.Props(_parts.Evaluator, Self).WithDispatcher("actors.evaluator-dispatcher"), "evaluator");
        var server = _parts.CreateServer();
        var aggregator = Context.ActorOf(AggregatorActor.Props(spec, server, network, clock, evaluator, Self, _progress, _parts.BroadcastCodec)
            .WithDispatcher("actors.tensor-dispatcher"), "aggregator");
        var workers = _parts.Honest.Select((t, i) =>
            Context.ActorOf(WorkerActor.Props(i, t, _parts.Codecs[i], network, clock, model, IsSimulation).WithDispatcher("actors.tensor-dispatcher"), $"worker-{i}")).ToList();
        bool versionedRounds = spec.Timing.VersionedRounds;
        IReadOnlyList<IActorRef> byzantine = _parts.Byzantine.Select((t, b) =>
            Context.ActorOf(ByzantineActor.Props(spec.Workers.Honest + b, spec.Workers.Honest, spec.Workers.Total, spec.Workers.Byzantine, _parts.Attacks[b], t,
                _parts.ByzantineCodecs[b], network, clock, model, IsSimulation, versionedRounds, spec.Seed, _collusion)
                .WithDispatcher("actors.tensor-dispatcher"), $"byzantine-{b}")).ToList();

        var wire = new Wire(aggregator, workers, byzantine);
        aggregator.Tell(wire);
        foreach (var b in byzantine) b.Tell(wire);
        // Honest workers tap their updates to the attackers only when the attack is omniscient.
        var workerWire = spec.Attack.Omniscient ? wire : wire with { Byzantine = [] };
        foreach (var w in workers) w.Tell(workerWire);
        Start(aggregator, new StartTraining());
    }

    private Simulation.INetwork? _network;

    /// <summary>One worker's codec (all of a run's share the compressor settings and the charged cost).</summary>
    private UpdateCodec? AnyCodec => _parts.Codecs.Concat(_parts.ByzantineCodecs).FirstOrDefault();

    // The Byzantine children have stopped by now.
    protected override void PostStop() => _collusion.Dispose();

    /// <summary>The model's entries of the final broadcast vector (without the server state a federated run carries after them).</summary>
    private (float[] Values, Learning.Models.ParameterLayout Layout) ModelPart(float[] values) =>
        _parts.ModelLayout is { } m ? (values[..(int)m.Size], m) : (values, _parts.Layout);

    private void TryComplete()
    {
        if (_stats is null || _final is null) return;
        var figures = ParameterServerKind.Figures(_stats);
        ParameterServerKind.AddRowFigures(figures, _spec, _final, _reentries, _parts.FigureNames);
        if (IsSimulation && _spec.Timing.CompressionCost.Mode != "none" && _network is { } network) ParameterServerKind.AddTimeFigures(figures, network.Stats, AnyCodec);
        _run.Done.TrySetResult(new RunOutcome(_stats, _final, EventsReleased, figures) { Model = _model is null ? null : ModelPart(_model) });
    }
}


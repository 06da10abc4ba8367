using Actors.Learning.Aggregation;
using Actors.Learning.Attacks;
using Actors.Learning.Compression;
using Actors.Learning.Data;
using Actors.Learning.Models;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using TorchSharp;

namespace Actors.Runtime.ParameterServer;

/// <summary>
/// The learning objects of one parameter-server run, built from the spec before any actor exists:
/// data shards, one trainer per worker, the initial model, the aggregator, the evaluator.
/// </summary>
public sealed class ParameterServerParts : IKindRun
{
    public required ExperimentSpec Spec { get; init; }

    /// <summary>Where the data came from (summary.json `data_source`).</summary>
    public required string DataSource { get; init; }

    /// <summary>What the parts own besides trainers and codecs (the data, the shared gradient module, shards), freed after the trainers.</summary>
    public required IReadOnlyList<IDisposable> Owned { get; init; }

    public required IReadOnlyList<ILocalTrainer> Honest { get; init; }

    /// <summary>The Byzantine workers' own trainers (iid data; label flippers train on 9 - y), empty without attackers.</summary>
    public required IReadOnlyList<ILocalTrainer> Byzantine { get; init; }

    /// <summary>One attack instance per Byzantine worker (attacks keep state: mimic's choice, drift's direction, replay buffers).</summary>
    public required IReadOnlyList<IAttack> Attacks { get; init; }

    /// <summary>Codecs of the Byzantine workers (they compress like everybody else).</summary>
    public required IReadOnlyList<UpdateCodec> ByzantineCodecs { get; init; }
    public required torch.Tensor InitialModel { get; init; }
    public required IAggregator Aggregator { get; init; }
    public required IModelEvaluator Evaluator { get; init; }

    /// <summary>The server's optimizer when it is not SGD (a game's Adam or extragradient), made fresh for each server model; null = SGD.</summary>
    public Func<Learning.Optim.IServerOptimizer?>? ServerOptimizer { get; init; }

    /// <summary>The names of the evaluator's extra figures (a game's), copied from the final row into summary.json.</summary>
    public IReadOnlyList<string> FigureNames { get; init; } = [];
    public required long ParameterCount { get; init; }
    public required ParameterLayout Layout { get; init; }

    /// <summary>What workers send, when it is not the broadcast vector's shape (federated messages: delta plus control or gradient blocks).</summary>
    public ParameterLayout? UpdateLayout { get; init; }

    /// <summary>The model inside the broadcast vector (its first entries), when the broadcast also carries server state (federated).</summary>
    public ParameterLayout? ModelLayout { get; init; }

    /// <summary>One codec per honest worker (each has its own error-feedback memory and rounding seed).</summary>
    public required IReadOnlyList<UpdateCodec> Codecs { get; init; }

    /// <summary>The aggregator's codec for compressed model broadcasts, or null when broadcasts go uncompressed.</summary>
    public UpdateCodec? BroadcastCodec { get; init; }

    public static ParameterServerParts Build(ExperimentSpec spec, Action<string> warn)
    {
        new ParameterServerKind().Validate(spec); // fails fast on bad input, before loading any data
        var compression = spec.Compression;
        Compressors.Create(compression, 0); // validates the compression block before loading any data
        var data = spec.LoadData(warn);
        var labels = data.Train.Labels.ToHostArray<long>().Select(l => (int)l).ToArray();
        var shards = Partitioner.Split(labels, spec.Data.Partition, spec.Workers.Honest, spec.Workers.Byzantine, Seeds.Random(spec.Seed, "partition"), spec.Data.DirichletAlpha);
        CheckShards(spec, shards, labels.Length, "worker");
        var gradients = new GradientModel(spec.Model.Architecture, data.Train.ItemShape, data.Train.Classes); // one for every worker of the process
        var honest = new List<LocalTrainer>();
        for (int i = 0; i < spec.Workers.Honest; i++)
        {
            var shard = data.Train.View(shards[i], $"worker-{i}");
            honest.Add(new LocalTrainer(shard, spec.Model.Architecture, spec.Data.BatchSize, spec.Optimizer.WorkerMomentum, spec.Optimizer.MomentumForm,
                Seeds.Random(spec.Seed, "worker-batches", i), model: gradients));
        }
        var attacks = new List<IAttack>();
        var byzantine = new List<LocalTrainer>();
        for (int b = 0; b < spec.Workers.Byzantine; b++)
        {
            var attack = AttackFactory.Create(spec.Attack, spec.Workers.Total, spec.Workers.Byzantine)!;
            attacks.Add(attack);
            var shard = data.Train.View(shards[spec.Workers.Honest + b], $"byzantine-{b}");
            byzantine.Add(new LocalTrainer(shard, spec.Model.Architecture, spec.Data.BatchSize, attack.SendsRawGradient ? 0 : spec.Optimizer.WorkerMomentum,
                spec.Optimizer.MomentumForm, Seeds.Random(spec.Seed, "worker-batches", spec.Workers.Honest + b), attack.LabelMap, gradients));
        }
        var initial = Learning.Training.InitialModel.Create(spec.Model.Architecture, data.Train.ItemShape, data.Train.Classes, spec.Seed);
        ParameterLayout layout;
        using (var m = Learning.Training.InitialModel.Unseeded(() => ModelFactory.Create(spec.Model.Architecture, data.Train.ItemShape, data.Train.Classes))) layout = ParameterLayout.Of(m);
        return Assemble(spec, layout, initial, data.Source, honest, byzantine, new ModelEvaluator(data.Test, spec.Model.Architecture),
            [.. honest.Concat(byzantine).Select(t => t.Shard), gradients, data], attacks: attacks);
    }

    /// <summary>
    /// The parts every parameter-server run has, around a kind's own trainers and evaluator (a classifier's or a game's):
    /// the aggregator, the attacks (unless given), one codec per worker and the broadcast codec.
    /// </summary>
    public static ParameterServerParts Assemble(ExperimentSpec spec, ParameterLayout layout, torch.Tensor initial, string dataSource,
        IReadOnlyList<ILocalTrainer> honest, IReadOnlyList<ILocalTrainer> byzantine, IModelEvaluator evaluator, IReadOnlyList<IDisposable> owned,
        Func<Learning.Optim.IServerOptimizer?>? serverOptimizer = null, IReadOnlyList<string>? figureNames = null, IReadOnlyList<IAttack>? attacks = null,
        ParameterLayout? updateLayout = null, ParameterLayout? modelLayout = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var compression = spec.Compression;
        attacks ??= [.. Enumerable.Range(0, spec.Workers.Byzantine).Select(_ => AttackFactory.Create(spec.Attack, spec.Workers.Total, spec.Workers.Byzantine)!)];
        var shared = Seeds.Derive(spec.Seed, "compression-shared");
        var cost = CompressionCost.For(spec, updateLayout ?? layout, shared); // timed once here, for the run's message size
        var codecs = Enumerable.Range(0, spec.Workers.Honest)
            .Select(i => new UpdateCodec(Compressors.Create(compression, (long)Seeds.Derive(spec.Seed, "compressor", i)), updateLayout ?? layout, shared) { Cost = cost }).ToList();
        var byzantineCodecs = Enumerable.Range(spec.Workers.Honest, spec.Workers.Byzantine)
            .Select(i => new UpdateCodec(Compressors.Create(compression, (long)Seeds.Derive(spec.Seed, "compressor", i)), updateLayout ?? layout, shared) { Cost = cost }).ToList();
        var broadcast = compression.CompressBroadcast
            ? new UpdateCodec(Compressors.Create(compression with { ErrorFeedback = false }, (long)Seeds.Derive(spec.Seed, "compressor-broadcast")), layout, shared) { Cost = cost }
            : null;
        return new ParameterServerParts
        {
            Spec = spec,
            DataSource = dataSource,
            Owned = owned,
            Honest = honest,
            Byzantine = byzantine,
            Attacks = attacks,
            ByzantineCodecs = byzantineCodecs,
            InitialModel = initial,
            Aggregator = CreateAggregator(spec),
            Evaluator = evaluator,
            ParameterCount = initial.numel(),
            Layout = layout,
            UpdateLayout = updateLayout,
            ModelLayout = modelLayout,
            Codecs = codecs,
            BroadcastCodec = broadcast,
            ServerOptimizer = serverOptimizer,
            FigureNames = figureNames ?? [],
        };
    }

    /// <summary>
    /// Every worker needs at least one training example: says how many examples there are for how many workers, and
    /// which key to change, instead of failing deep inside a trainer.
    /// </summary>
    public static void CheckShards(ExperimentSpec spec, IReadOnlyList<long[]> shards, int examples, string what)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shards);
        if (examples < shards.Count)
            throw new ExperimentConfigException($"{shards.Count} {what}s but the training set ({spec.Data.Dataset}) has {examples} examples: every {what} needs at least one " +
                                                $"(lower workers.honest / workers.byzantine{(spec.Data.Dataset == "synthetic" ? ", or raise data.synthetic.train" : "")})");
        for (int i = 0; i < shards.Count; i++)
            if (shards[i].Length == 0)
                throw new ExperimentConfigException($"{what} {i} gets no training example from data.partition = {spec.Data.Partition} ({examples} examples for {shards.Count} {what}s" +
                                                    $"{(spec.Data.Partition == "dirichlet" ? $", dirichlet-alpha {spec.Data.DirichletAlpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "")}): " +
                                                    "use fewer workers or another partition");
    }

    /// <summary>The configured rule (with bucketing), wrapped in the conformal filter when aggregator.conformal-filter.eps > 0.</summary>
    public static IAggregator CreateAggregator(ExperimentSpec spec)
    {
        IAggregator aggregator;
        try
        {
            aggregator = AggregatorFactory.Create(spec.Aggregator, spec.Workers.Total, spec.Workers.Byzantine);
        }
        catch (ArgumentException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
        return spec.ConformalFilter.Enabled ? new Learning.Conformal.ConformalFilter(aggregator, spec.ConformalFilter.Eps, spec.ConformalFilter.K) : aggregator;
    }

    /// <summary>The server model and its optimizer for this spec (with the pruner and lookahead when the run asks); the caller owns it.</summary>
    public ServerModel CreateServer()
    {
        var pruner = Spec.Pruning.Enabled ? new Learning.Pruning.ModelPruner(Spec.Pruning, Layout, Spec.Steps, InitialModel.dtype) : null;
        var lookahead = Spec.Optimizer.Lookahead ? new Learning.Optim.Lookahead(Spec.Optimizer.LookaheadK, Spec.Optimizer.LookaheadAlpha) : null;
        return new ServerModel(InitialModel, Aggregator, Spec.Optimizer.Lr, Spec.Optimizer.ServerMomentumBeta, Spec.Optimizer.MomentumForm, pruner, lookahead,
            ServerOptimizer?.Invoke(), new Learning.Optim.LearningRateSchedule(Spec.Optimizer.Lr, Spec.Optimizer.LrSchedule, Spec.Steps))
        {
            UpdateSize = (UpdateLayout ?? Layout).Size,
        };
    }

    string IKindRun.DataSource => DataSource;

    long IKindRun.Parameters => ModelLayout?.Size ?? ParameterCount;

    public Akka.Actor.Props Coordinator(RunContext context) => ParameterServerCoordinator.Props(this, context);

    public void Dispose()
    {
        // The shards are ours (views made here), not the trainers': free them now rather than at finalization; then the data.
        foreach (var t in Honest.Concat(Byzantine)) t.Dispose();
        foreach (var o in Owned) o.Dispose();
        foreach (var c in Codecs) c.Dispose();
        foreach (var c in ByzantineCodecs) c.Dispose();
        BroadcastCodec?.Dispose();
        Evaluator.Dispose();
        InitialModel.Dispose();
    }
}

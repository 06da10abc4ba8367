using Actors.Learning.Aggregation;
using Actors.Learning.Data;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Runtime.Experiments;
using TorchSharp;

namespace Actors.Runtime.Running;

/// <summary>
/// The learning objects of one parameter-server run, built from the spec before any actor exists:
/// data shards, one trainer per worker, the initial model, the aggregator, the evaluator.
/// </summary>
public sealed class ExperimentParts : IDisposable
{
    public required DataBundle Data { get; init; }
    public required IReadOnlyList<LocalTrainer> Honest { get; init; }
    public required torch.Tensor InitialModel { get; init; }
    public required IAggregator Aggregator { get; init; }
    public required ModelEvaluator Evaluator { get; init; }
    public required long ParameterCount { get; init; }

    public static ExperimentParts Build(ExperimentSpec spec, Action<string> warn)
    {
        var aggregator = CreateAggregator(spec); // fails fast on a bad name, before loading any data
        var data = spec.Data.Dataset == "synthetic"
            ? SyntheticData.Generate(spec.Data.Synthetic, spec.Seed)
            : DatasetLocator.Load(spec.Data.Dataset, spec.Data.Path, spec.Seed, warn);
        var labels = data.Train.Labels.data<long>().Select(l => (int)l).ToArray();
        var shards = Partitioner.Split(labels, spec.Data.Partition, spec.Workers.Honest, spec.Workers.Byzantine, Seeds.Random(spec.Seed, "partition"));
        var honest = new List<LocalTrainer>();
        for (int i = 0; i < spec.Workers.Honest; i++)
        {
            var shard = data.Train.Subset(shards[i], $"worker-{i}");
            honest.Add(new LocalTrainer(shard, spec.Model.Type, spec.Data.BatchSize, spec.Optimizer.Momentum, spec.Optimizer.MomentumForm,
                Seeds.Random(spec.Seed, "worker-batches", i)));
        }
        var initial = Learning.Training.InitialModel.Create(spec.Model.Type, data.Train.ItemShape, data.Train.Classes, spec.Seed);
        return new ExperimentParts
        {
            Data = data,
            Honest = honest,
            InitialModel = initial,
            Aggregator = aggregator,
            Evaluator = new ModelEvaluator(data.Test, spec.Model.Type),
            ParameterCount = initial.numel(),
        };
    }

    public static IAggregator CreateAggregator(ExperimentSpec spec) => spec.Aggregator.Type switch
    {
        "mean" => new Mean(),
        _ => throw new ExperimentConfigException($"aggregator.type = '{spec.Aggregator.Type}' is not valid (valid: mean)"),
    };

    public void Dispose()
    {
        InitialModel.Dispose();
        Data.Dispose();
    }
}

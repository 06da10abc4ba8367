using System.Globalization;
using Actors.Learning.Data;
using Actors.Learning.Federated;
using Actors.Learning.Models;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using TorchSharp;

namespace Actors.Runtime.Federated;

/// <summary>
/// `experiment.kind = federated`: sampled clients with local steps, through the parameter-server actors. The worker actors
/// are the cohort's slots; in each round slot j hosts the j-th sampled client (<see cref="ClientTrainer"/>), runs its K
/// local steps from the broadcast state and sends its message; the aggregator (any rule, bucketing, the conformal filter)
/// reduces the cohort's messages and <see cref="FederatedServer"/> moves the state. Timing, stragglers, compression and
/// Byzantine clients (the attacks applied to client messages) are the parameter server's, because the actors are.
/// </summary>
public sealed class FederatedKind : IExperimentKind
{
    public const string KindName = "federated";

    public string Name => KindName;

    public void Validate(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        FederatedSection.Validate(spec, FederatedSection.Of(spec));
        ParameterServerParts.CreateAggregator(spec);
    }

    public string? Banner(ExperimentSpec spec)
    {
        var s = FederatedSection.Of(spec!);
        string phases = s.Algorithm == FederatedAlgorithm.Mime ? "; two server versions per round (experiment.steps counts versions)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"federated: {ConfigEnum.Name(s.Algorithm)}, {s.ClientsPerRound} of {s.Clients} clients per round ({spec!.Workers.Byzantine} Byzantine slots), K = {s.LocalSteps} local steps at lr {spec.Optimizer.Lr}, server-lr {s.ServerLr}{phases}");
    }

    public IReadOnlyList<string> MarkdownKeys => ["staleness_mean"];

    public (string Description, string PlotTitle) Report(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = FederatedSection.Of(spec);
        string partition = spec.Data.Partition == "dirichlet"
            ? string.Create(CultureInfo.InvariantCulture, $"dirichlet alpha {spec.Data.DirichletAlpha}")
            : spec.Data.Partition;
        string baseOptimizer = s.IsMime ? $" (base optimizer {ConfigEnum.Name(s.BaseOptimizer)})" : "";
        return (string.Create(CultureInfo.InvariantCulture,
                $"Federated {ConfigEnum.Name(s.Algorithm)}{baseOptimizer}: {spec.Model.Architecture} on {spec.Data.Dataset} split over {s.Clients} clients ({partition}), {s.ClientsPerRound} per round ({spec.Workers.Byzantine} Byzantine), K = {s.LocalSteps} local steps of batch {spec.Data.BatchSize} at lr {spec.Optimizer.Lr}, server-lr {s.ServerLr}, aggregator {spec.Aggregator.Type}, timing {ConfigEnum.Name(spec.Timing.Mode)}, {spec.Mode} mode, seed {spec.Seed}."),
            $"{spec.Name}: {ConfigEnum.Name(s.Algorithm)}, {s.ClientsPerRound}/{s.Clients} clients, K {s.LocalSteps}");
    }

    public IKindRun Prepare(ExperimentSpec spec, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Validate(spec);
        var s = FederatedSection.Of(spec);
        var data = spec.LoadData(warn);
        var labels = data.Train.Labels.ToHostArray<long>().Select(l => (int)l).ToArray();
        var shards = Partitioner.Split(labels, spec.Data.Partition, s.Clients, 0, Seeds.Random(spec.Seed, "partition"), spec.Data.DirichletAlpha);
        ParameterServerParts.CheckShards(spec, shards, labels.Length, "client");
        var population = new ClientPopulation(data.Train, shards, s, spec.Model.Architecture, spec.Seed);
        var trainers = Enumerable.Range(0, spec.Workers.Total)
            .Select(j => (ILocalTrainer)new ClientTrainer(population, j, spec.Data.BatchSize, spec.Optimizer.Lr, spec.Seed)).ToList();

        ParameterLayout model;
        using (var m = InitialModel.Unseeded(() => ModelFactory.Create(spec.Model.Architecture, data.Train.ItemShape, data.Train.Classes))) model = ParameterLayout.Of(m);
        long d = model.Size;
        var initial = InitialModel.Create(spec.Model.Architecture, data.Train.ItemShape, data.Train.Classes, spec.Seed);
        if (s.StateBlocks.Count > 0)
        {
            using var x = initial;
            using var state = torch.zeros(d * s.StateBlocks.Count); // the server state starts at 0 (c, momentum, Adam's moments)
            initial = torch.cat([x, state], 0);
        }
        var evaluator = new FederatedEvaluator(new ModelEvaluator(data.Test, spec.Model.Architecture), d);
        return ParameterServerParts.Assemble(spec, Blocks(model, ["model", .. s.StateBlocks]), initial, data.Source,
            trainers.Take(spec.Workers.Honest).ToList(), trainers.Skip(spec.Workers.Honest).ToList(), evaluator, [population, data],
            () => new FederatedServer(s, d), updateLayout: Blocks(model, s.MessageBlocks), modelLayout: model);
    }

    /// <summary>A layout of model-sized blocks: the model's own tensors first ("model"), then each named block's copy of them.</summary>
    private static ParameterLayout Blocks(ParameterLayout model, IReadOnlyList<string> blocks)
    {
        var entries = new List<(string, long[], long, long)>();
        for (int k = 0; k < blocks.Count; k++)
            foreach (var (name, shape, offset, count) in model.Entries)
                entries.Add((k == 0 && blocks[0] is "model" or "delta" ? name : $"{blocks[k]}.{name}", shape, offset + k * model.Size, count));
        return new ParameterLayout(entries);
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Learning.Compression;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Protocol;
using Akka.Actor;

namespace Actors.Runtime.ParameterServer;

/// <summary>
/// `experiment.kind = parameter-server`: honest workers and Byzantine actors send updates to one aggregator, whose round
/// policy (`timing.mode`) decides when they are applied.
/// </summary>
public sealed class ParameterServerKind : IExperimentKind
{
    public const string KindName = "parameter-server";

    public string Name => KindName;

    public void Validate(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ParameterServerParts.CreateAggregator(spec);
        if (Learning.Data.DatasetLocator.TrainSize(spec.Data.Dataset, spec.Data.Synthetic.Train) is { } examples && examples < spec.Workers.Total)
            ParameterServerParts.CheckShards(spec, new long[spec.Workers.Total][], examples, "worker");
        var compression = spec.Compression;
        if (!compression.CompressBroadcast) return;
        if (spec.Workers.Byzantine > 0)
            throw new ExperimentConfigException("compression.compress-broadcast = on is not supported with Byzantine workers yet (set it off)");
        if (!spec.Timing.VersionedRounds)
            throw new ExperimentConfigException($"compression.compress-broadcast = on needs timing.mode = sync or deadline (every worker must see every broadcast), not '{ConfigEnum.Name(spec.Timing.Mode)}'");
        // Broadcast deltas are tracked like error feedback, which only converges for contractive compressors (omega < 1).
        if (compression.Type == "qsgd" || (compression.Type == "randk" && compression.Scaling == RandKScaling.Unbiased))
            throw new ExperimentConfigException($"compression.compress-broadcast = on needs a contractive compressor (topk, random-block, sign, powersgd, or randk with compression.scaling = contractive), not '{compression.Type}'{(compression.Type == "randk" ? " with unbiased scaling" : "")}");
    }

    public (string Description, string PlotTitle) Report(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return (string.Create(CultureInfo.InvariantCulture,
                $"{spec.Model.Type} on {spec.Data.Dataset} ({spec.Data.Partition}), {spec.Workers.Honest} honest + {spec.Workers.Byzantine} Byzantine workers, " +
                $"aggregator {spec.Aggregator.Type}, attack {spec.Attack.Type}, timing {ConfigEnum.Name(spec.Timing.Mode)}, {spec.Mode} mode, seed {spec.Seed}."),
            $"{spec.Name}: {spec.Model.Type}, {spec.Workers.Honest}+{spec.Workers.Byzantine} workers, {spec.Aggregator.Type}");
    }

    public IReadOnlyList<string> MarkdownKeys => ["staleness_mean", "staleness_max"];

    public IKindRun Prepare(ExperimentSpec spec, Action<string> warn) => ParameterServerParts.Build(spec, warn);

    /// <summary>What a parameter-server run adds to summary.json: staleness and the per-worker counts.</summary>
    public static JsonObject Figures(TrainingStats s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var histogram = new JsonObject();
        foreach (var (k, v) in s.StalenessHistogram) histogram[k.ToString(CultureInfo.InvariantCulture)] = v;
        var perWorker = new JsonArray();
        foreach (var w in s.PerWorker) perWorker.Add(new JsonObject { ["worker"] = w.WorkerId, ["accepted"] = w.Accepted, ["dropped"] = w.Dropped });
        return new JsonObject
        {
            ["staleness_mean"] = Math.Round(s.StalenessMean, 6),
            ["staleness_max"] = s.StalenessMax,
            ["staleness_histogram"] = histogram,
            ["per_worker"] = perWorker,
        };
    }
}

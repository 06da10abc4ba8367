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

    /// <summary>A hint when the timing and momentum are a measured bad pair (docs/asynchrony.md), else nothing.</summary>
    public string? Banner(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Timing.Mode != TimingMode.Async || spec.Timing.StalenessWeighting || spec.Optimizer.Momentum < 0.9) return null;
        return $"note: async timing with momentum {spec.Optimizer.Momentum.ToString(CultureInfo.InvariantCulture)}: stale updates act like extra momentum " +
               "(measured on the default experiment with stragglers: 5.6 points below sync at equal updates); timing.staleness-weighting = inverse " +
               "(-0.3 points there) or momentum 0.5 closes the gap (docs/asynchrony.md)";
    }

    public (string Description, string PlotTitle) Report(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return (string.Create(CultureInfo.InvariantCulture,
                $"{spec.Model.Architecture} on {spec.Data.Dataset} ({spec.Data.Partition}), {spec.Workers.Honest} honest + {spec.Workers.Byzantine} Byzantine workers, " +
                $"aggregator {spec.Aggregator.Type}, attack {spec.Attack.Type}, timing {ConfigEnum.Name(spec.Timing.Mode)}, {spec.Mode} mode, seed {spec.Seed}."),
            $"{spec.Name}: {spec.Model.Type}, {spec.Workers.Honest}+{spec.Workers.Byzantine} workers, {spec.Aggregator.Type}");
    }

    public IReadOnlyList<string> MarkdownKeys => ["staleness_mean", "staleness_max", "sparsity", "pruning_reentries"];

    /// <summary>A pruning run's sparsity and re-entries over the run (pruning.png).</summary>
    public IReadOnlyList<string> WritePlots(string directory, ExperimentSpec spec, string title, IReadOnlyList<MetricsRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (spec?.Pruning.Enabled != true) return [];
        Output.Plots.Pruning(Path.Combine(directory, "pruning.png"), title,
            [.. rows.Where(r => r.Extras.Count >= 2).Select(r => ((double)r.Counters.Step, r.Extras[0], r.Extras[1]))]);
        return ["pruning.png"];
    }

    /// <summary>Pruning runs add the sparsity of the evaluated model and the weights that came back into the mask since the previous row.</summary>
    public IReadOnlyList<MetricColumn> Columns(ExperimentSpec spec) =>
        spec?.Pruning.Enabled == true ? [new MetricColumn("sparsity"), new MetricColumn("pruning_reentries", "0")] : [];

    /// <summary>
    /// Peak memory from the spec: the process and data, then per worker its momentum and error-feedback residual, the
    /// update it has in flight (a sync round holds one per worker until it closes), its actor and sampler; the model
    /// buffers of server, evaluator and the shared gradient module. Calibrated against measured peaks (docs/memory.md).
    /// </summary>
    public long? EstimateBytes(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        long inputs = spec.Data.Dataset == "synthetic" ? spec.Data.Synthetic.Features : 784;
        int classes = spec.Data.Dataset == "synthetic" ? spec.Data.Synthetic.Classes : 10;
        long d = Learning.Models.ModelFactory.ParameterCount(spec.Model.Architecture, inputs, classes);
        long vector = 4 * d, n = spec.Workers.Total;
        long train = Learning.Data.DatasetLocator.TrainSize(spec.Data.Dataset, spec.Data.Synthetic.Train) ?? 60_000;
        long data = spec.Data.Dataset == "synthetic" ? 4L * inputs * (train + spec.Data.Synthetic.Test) : (train + 10_000) * inputs;
        long perWorker = WorkerOverheadBytes + vector * 5 / 4 // the update in flight, and the heap's share of its churn
            + (spec.Optimizer.WorkerMomentum > 0 ? vector : 0)
            + (spec.Compression.ErrorFeedback ? vector : 0);
        long fixedBytes = ProcessBaseBytes + data + 16 * train + 8 * vector;
        return fixedBytes + n * perWorker;
    }

    /// <summary>The process with .NET, libtorch and the plotting stack loaded (measured).</summary>
    public const long ProcessBaseBytes = 380L << 20;

    /// <summary>A worker's actor, mailbox, sampler and trainer without its tensors (measured).</summary>
    public const long WorkerOverheadBytes = 16L << 10;

    public IKindRun Prepare(ExperimentSpec spec, Action<string> warn) => ParameterServerParts.Build(spec, warn);

    /// <summary>
    /// The figures a run's final metrics row carries into summary.json: pruning's sparsity and the run's re-entries
    /// (<paramref name="reentries"/>, summed over the rows), then the evaluator's own figures (a game's) by name.
    /// </summary>
    public static void AddRowFigures(JsonObject figures, ExperimentSpec spec, MetricsRow final, long reentries, IReadOnlyList<string> figureNames)
    {
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(final);
        ArgumentNullException.ThrowIfNull(figureNames);
        int first = 0;
        if (spec.Pruning.Enabled && final.Extras.Count >= 2)
        {
            figures["sparsity"] = Math.Round(final.Extras[0], 6);
            figures["pruning_reentries"] = reentries;
            first = 2; // the evaluator's figures follow the aggregator's
        }
        for (int i = 0; i < figureNames.Count && first + i < final.Extras.Count; i++)
        {
            double v = final.Extras[first + i];
            figures[figureNames[i]] = double.IsFinite(v) ? Math.Round(v, 10) : null;
        }
    }

    /// <summary>
    /// Simulation: where the modelled time went, summed over the messages (worker-seconds, not the run's span): computing,
    /// compressing (encode + decode, `timing.compression-cost`) and on links, with their shares; and the compression cost
    /// figures the run charged.
    /// </summary>
    public static void AddTimeFigures(JsonObject figures, Simulation.NetworkStats stats, UpdateCodec? codec)
    {
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(stats);
        double compute = stats.ComputeTime.TotalSeconds, compress = stats.CompressTime.TotalSeconds, link = stats.LinkTime.TotalSeconds;
        double total = compute + compress + link;
        figures["time_compute_s"] = Math.Round(compute, 6);
        figures["time_compress_s"] = Math.Round(compress, 6);
        figures["time_communicate_s"] = Math.Round(link, 6);
        figures["time_shares"] = new JsonObject
        {
            ["compute"] = total > 0 ? Math.Round(compute / total, 6) : 0,
            ["compress"] = total > 0 ? Math.Round(compress / total, 6) : 0,
            ["communicate"] = total > 0 ? Math.Round(link / total, 6) : 0,
        };
        if (codec is { Cost.IsFree: false }) figures["compression_cost"] = codec.Cost.ToJson(codec.Values);
    }

    /// <summary>What a parameter-server run adds to summary.json: staleness and the per-worker counts.</summary>
    public static JsonObject Figures(TrainingStats s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var histogram = new JsonObject();
        foreach (var (k, v) in s.StalenessHistogram) histogram[k.ToString(CultureInfo.InvariantCulture)] = v;
        var perWorker = new JsonArray();
        foreach (var w in s.PerWorker)
        {
            var o = new JsonObject { ["worker"] = w.WorkerId, ["accepted"] = w.Accepted, ["dropped"] = w.Dropped };
            if (w.Sent is { } sent) o["sent"] = sent;
            perWorker.Add(o);
        }
        return new JsonObject
        {
            ["staleness_mean"] = Math.Round(s.StalenessMean, 6),
            ["staleness_max"] = s.StalenessMax,
            ["staleness_histogram"] = histogram,
            ["per_worker"] = perWorker,
        };
    }
}

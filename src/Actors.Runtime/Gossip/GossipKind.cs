using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>
/// `experiment.kind = gossip`: decentralized training without a parameter server. One PeerActor per node mixes with its
/// current neighbours (told by a TopologyActor); the report adds the average model's consensus distance and, when f* is
/// known (logreg), its suboptimality, with their plots.
/// </summary>
public sealed class GossipKind : IExperimentKind
{
    public const string KindName = "gossip";

    public string Name => KindName;

    public void Validate(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Optimizer.LrSchedule != Learning.Optim.LearningRateShape.Constant)
            throw new ExperimentConfigException("optimizer.lr-schedule must be constant in gossip runs (the gossip rules take a fixed step)");
        if (spec.Optimizer.Lookahead)
            throw new ExperimentConfigException("optimizer.lookahead runs in parameter-server experiments (the aggregator keeps the slow weights); gossip runs need optimizer.lookahead.k = 0");
        if (spec.Pruning.Enabled)
            throw new ExperimentConfigException($"pruning.type = {ConfigEnum.Name(spec.Pruning.Type)} runs in parameter-server experiments (the aggregator owns the mask); gossip runs need pruning.type = none");
        GossipSection.Of(spec).Validate(spec);
    }

    /// <summary>One line for the start of a run: algorithm, topology and its spectral gap.</summary>
    public string? Banner(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var g = GossipSection.Of(spec);
        var topology = GossipParts.CreateTopology(spec, g);
        var churn = g.Topology.Churn is { } c ? $", churn every {c.LeaveEvery} steps" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"gossip: {g.Algorithm} ({ConfigEnum.Name(spec.Timing.Mode)}) on a {g.Topology.Type} of {g.Topology.Nodes} nodes{churn}, spectral gap {Learning.Gossip.SpectralGap.Of(topology):0.####}");
    }

    /// <summary>f* is known for logistic regression (a strongly convex problem), so its runs report suboptimality.</summary>
    public static bool HasOptimum(ExperimentSpec spec) => spec?.Model.Type == "logreg";

    public IReadOnlyList<MetricColumn> Columns(ExperimentSpec spec) =>
        HasOptimum(spec)
            ? [new("consensus_distance", MetricColumn.Scientific), new("suboptimality", MetricColumn.Scientific)]
            : [new("consensus_distance", MetricColumn.Scientific)];

    public (string Description, string PlotTitle) Report(ExperimentSpec spec)
    {
        var g = GossipSection.Of(spec);
        return (string.Create(CultureInfo.InvariantCulture,
                $"Decentralized {g.Algorithm} ({ConfigEnum.Name(spec.Timing.Mode)}) on a {g.Topology.Type} of {g.Topology.Nodes} nodes, " +
                $"{spec.Model.Type} ({spec.Model.DType}) on {spec.Data.Dataset}, compression {spec.Compression.Type}, {spec.Mode} mode, seed {spec.Seed}."),
            $"{spec.Name}: {g.Algorithm} on a {g.Topology.Type} of {g.Topology.Nodes}, {spec.Model.Type}");
    }

    public IReadOnlyList<string> MarkdownKeys =>
        ["final_suboptimality", "consensus_distance", "spectral_gap", "bytes_per_node", "resyncs_applied", "nodes_left"];

    public IReadOnlyList<string> WritePlots(string directory, ExperimentSpec spec, string title, IReadOnlyList<MetricsRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var written = new List<string>();
        var algorithm = GossipSection.Of(spec!).Algorithm;
        if (HasOptimum(spec!))
        {
            Plots.LogLines(Path.Combine(directory, "suboptimality.png"), title, "(f(x_avg) - f*) / f*",
                new Dictionary<string, IReadOnlyList<(double X, double Y)>> { [algorithm] = rows.Select(r => ((double)r.Counters.Step, r.Extras[1])).ToList() });
            written.Add("suboptimality.png");
        }
        Plots.LogLines(Path.Combine(directory, "consensus.png"), title, "consensus distance",
            new Dictionary<string, IReadOnlyList<(double X, double Y)>> { [algorithm] = rows.Select(r => ((double)r.Counters.Step, r.Extras[0])).ToList() });
        written.Add("consensus.png");
        return written;
    }

    public IKindRun Prepare(ExperimentSpec spec, Action<string> warn) => GossipParts.Build(spec, warn);

    /// <summary>The metrics row of a gossip evaluation: consensus distance, then suboptimality when f* is known.</summary>
    public static MetricsRow Row(GossipEvaluation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new MetricsRow(e.Counters, e.TestLoss, e.TestAccuracy, e.Final,
            e.Suboptimality is { } s ? [e.ConsensusDistance, s] : [e.ConsensusDistance]);
    }

    /// <summary>What a gossip run adds to summary.json, from its last evaluation.</summary>
    public static JsonObject Figures(GossipParts parts, GossipEvaluation last, long leaves, long rejoins)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return Figures(parts.Settings.Algorithm, parts.TopologyType, parts.Nodes.Count, parts.SpectralGap, last, leaves, rejoins);
    }

    /// <summary>The same from the run's shape alone (a cluster client has no <see cref="GossipParts"/>).</summary>
    public static JsonObject Figures(string algorithm, string topologyType, int nodes, double spectralGap, GossipEvaluation last, long leaves, long rejoins)
    {
        ArgumentNullException.ThrowIfNull(last);
        var byNode = new JsonArray();
        foreach (var b in last.PerNode.Select(p => p.BytesSent)) byNode.Add(b);
        var figures = new JsonObject
        {
            ["algorithm"] = algorithm,
            ["topology"] = topologyType,
            ["nodes"] = nodes,
        };
        if (last.Suboptimality is { } sub) figures["final_suboptimality"] = sub;
        figures["consensus_distance"] = last.ConsensusDistance;
        figures["spectral_gap"] = Math.Round(spectralGap, 9);
        figures["bytes_per_node"] = Math.Round((double)last.Counters.BytesSent / nodes, 3);
        figures["bytes_sent_by_node"] = byNode;
        figures["exchanges"] = last.PerNode.Sum(p => p.Exchanges);
        figures["resyncs_applied"] = last.PerNode.Sum(p => p.ResyncsApplied);
        figures["broken_copies"] = last.PerNode.Sum(p => p.BrokenCopies);
        figures["edge_resets"] = last.PerNode.Sum(p => p.EdgeResets);
        figures["nodes_left"] = leaves;
        figures["nodes_rejoined"] = rejoins;
        return figures;
    }

    /// <summary>Drops of a gossip run by reason (summary.json `updates_dropped`).</summary>
    public static Dictionary<string, long> Drops(GossipEvaluation last)
    {
        ArgumentNullException.ThrowIfNull(last);
        return new()
        {
            ["duplicate"] = last.PerNode.Sum(c => c.Duplicates),
            ["stale"] = last.PerNode.Sum(c => c.Stale),
            ["node_down"] = last.PerNode.Sum(c => c.Dropped),
        };
    }
}

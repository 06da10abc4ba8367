using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Actors.Runtime.Protocol;
using Actors.Runtime.Running;
using Akka.Actor;
using Akka.Configuration;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>
/// Runs one decentralized (experiment.kind = gossip) experiment embedded in this process: builds the problem, the topology
/// and the nodes, starts an ActorSystem named <c>actors</c> with one PeerActor per node and a TopologyActor, then writes the
/// run directory (config.hocon, metrics.csv, summary.json, summary.md, accuracy.png, suboptimality.png when f* is known,
/// consensus.png).
/// </summary>
public static class GossipRunner
{
    /// <summary>One line for the start of a run: algorithm, topology and its spectral gap.</summary>
    public static string Describe(ExperimentSpec spec)
    {
        var topology = GossipParts.CreateTopology(spec);
        var churn = spec.Topology.LeaveEvery > 0 ? $", churn every {spec.Topology.LeaveEvery} steps" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"gossip: {spec.Gossip.Algorithm} ({ConfigEnum.Name(spec.Timing.Mode)}) on a {spec.Topology.Type} of {spec.Topology.Nodes} nodes{churn}, spectral gap {Learning.Gossip.SpectralGap.Of(topology):0.####}");
    }

    public static async Task<RunResult> Run(ExperimentSpec spec, string runDirectory, RunProgress progress, Action<string> warn, CancellationToken cancel = default)
    {
        var wall = Stopwatch.StartNew();
        _ = Task.Run(Plots.Warm); // loads the plotting stack off the training thread, while the run goes on
        TorchSetup.Initialize();
        using var parts = GossipParts.Build(spec, warn); // bad input fails here, before a run directory exists
        var path = Path.GetFullPath(runDirectory);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "config.hocon"), ExperimentRunner.Render(spec.Config));

        GossipOutcome outcome;
        using (var metrics = new GossipMetrics(path, parts.HasOptimum))
        {
            var done = new TaskCompletionSource<GossipOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            var system = ActorSystem.Create("actors", ConfigurationFactory.ParseString(ExperimentRunner.LocalSystemConfig));
            try
            {
                system.ActorOf(GossipCoordinator.Props(spec, parts, metrics, progress, done), "coordinator");
                using (cancel.Register(() => done.TrySetCanceled(cancel)))
                    outcome = await done.Task.ConfigureAwait(false);
            }
            finally
            {
                await system.Terminate().ConfigureAwait(false);
            }
        }
        wall.Stop();

        var summary = Summary(spec, parts, outcome, wall.Elapsed.TotalSeconds);
        File.WriteAllText(Path.Combine(path, "summary.json"), summary.ToJsonString(RunDirectory.JsonOptions) + "\n");
        var rows = outcome.Rows;
        string title = $"{spec.Name}: {spec.Gossip.Algorithm} on a {spec.Topology.Type} of {spec.Topology.Nodes}, {spec.Model.Type}";
        Plots.Accuracy(Path.Combine(path, "accuracy.png"), title, rows.Select(r => ((double)r.Counters.Step, r.TestAccuracy, r.TestLoss)).ToList());
        if (parts.HasOptimum)
            Plots.LogLines(Path.Combine(path, "suboptimality.png"), title, "(f(x_avg) - f*) / f*",
                new Dictionary<string, IReadOnlyList<(double X, double Y)>> { [spec.Gossip.Algorithm] = rows.Select(r => ((double)r.Counters.Step, r.Suboptimality ?? double.NaN)).ToList() });
        Plots.LogLines(Path.Combine(path, "consensus.png"), title, "consensus distance",
            new Dictionary<string, IReadOnlyList<(double X, double Y)>> { [spec.Gossip.Algorithm] = rows.Select(r => ((double)r.Counters.Step, r.ConsensusDistance)).ToList() });
        var warning = rows.Count < 2 ? null : Divergence.Describe(spec, rows[0].TestLoss, rows[^1].TestLoss, rows[^1].Counters.Step);
        File.WriteAllText(Path.Combine(path, "summary.md"), Markdown(spec, summary, parts.HasOptimum, warning));

        var last = rows[^1];
        var stats = new TrainingStats(outcome.Totals.Steps, outcome.Totals.UpdatesApplied, outcome.Totals.VirtualTimeS, Drops(last),
            0, 0, new Dictionary<long, long>(), last.PerNode.Select((c, i) => new WorkerCounts(i, c.LocalSteps, c.Dropped)).ToList());
        var final = new ExperimentProtocol.EvaluationResult(last.Counters, last.TestLoss, last.TestAccuracy, true);
        return new RunResult(path, summary, new RunOutcome(stats, final, outcome.EventsReleased), warning);
    }

    private static Dictionary<string, long> Drops(GossipEvaluation last) => new()
    {
        ["duplicate"] = last.PerNode.Sum(c => c.Duplicates),
        ["stale"] = last.PerNode.Sum(c => c.Stale),
        ["node_down"] = last.PerNode.Sum(c => c.Dropped),
    };

    private static JsonObject Summary(ExperimentSpec spec, GossipParts parts, GossipOutcome o, double wallSeconds)
    {
        var last = o.Rows[^1];
        var c = last.Counters;
        var drops = new JsonObject();
        foreach (var (k, v) in Drops(last).OrderBy(kv => kv.Key, StringComparer.Ordinal)) drops[k] = v;
        var byNode = new JsonArray();
        foreach (var b in last.PerNode.Select(p => p.BytesSent)) byNode.Add(b);
        var summary = new JsonObject
        {
            ["name"] = spec.Name,
            ["kind"] = "gossip",
            ["algorithm"] = spec.Gossip.Algorithm,
            ["topology"] = spec.Topology.Type,
            ["nodes"] = parts.Nodes.Count,
            ["final_test_accuracy"] = Math.Round(last.TestAccuracy, 6),
            ["final_test_loss"] = Math.Round(last.TestLoss, 6),
        };
        if (last.Suboptimality is { } sub) summary["final_suboptimality"] = sub;
        summary["consensus_distance"] = last.ConsensusDistance;
        summary["spectral_gap"] = Math.Round(parts.SpectralGap, 9);
        summary["steps"] = o.Totals.Steps;
        summary["updates_applied"] = o.Totals.UpdatesApplied;
        summary["seed"] = spec.Seed;
        summary["mode"] = spec.Mode;
        summary["timing_mode"] = ConfigEnum.Name(spec.Timing.Mode);
        summary["wall_time_s"] = Math.Round(wallSeconds, 3);
        summary["virtual_time_s"] = Math.Round(c.VirtualTimeS, 6);
        summary["messages_sent"] = c.MessagesSent;
        summary["bytes_sent"] = c.BytesSent;
        summary["bytes_uplink"] = c.BytesUplink;
        summary["bytes_uplink_uncompressed"] = c.BytesUplinkUncompressed;
        summary["bytes_per_node"] = Math.Round((double)c.BytesSent / parts.Nodes.Count, 3);
        summary["bytes_sent_by_node"] = byNode;
        summary["updates_dropped"] = drops;
        summary["exchanges"] = last.PerNode.Sum(p => p.Exchanges);
        summary["resyncs_applied"] = last.PerNode.Sum(p => p.ResyncsApplied);
        summary["broken_copies"] = last.PerNode.Sum(p => p.BrokenCopies);
        summary["edge_resets"] = last.PerNode.Sum(p => p.EdgeResets);
        summary["nodes_left"] = o.Totals.Leaves;
        summary["nodes_rejoined"] = o.Totals.Rejoins;
        summary["workers_crashed"] = 0;
        summary["events_released"] = o.EventsReleased;
        summary["parameters"] = parts.Problem.Dimension;
        summary["data_source"] = parts.DataSource;
        return summary;
    }

    private static string Markdown(ExperimentSpec spec, JsonObject s, bool hasOptimum, string? warning)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# {spec.Name}");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Decentralized {spec.Gossip.Algorithm} ({ConfigEnum.Name(spec.Timing.Mode)}) on a {spec.Topology.Type} of {spec.Topology.Nodes} nodes, " +
                                                   $"{spec.Model.Type} ({spec.Model.DType}) on {spec.Data.Dataset}, compression {spec.Compression.Type}, {spec.Mode} mode, seed {spec.Seed}.");
        b.AppendLine();
        if (warning is not null)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"**Warning: {warning}**");
            b.AppendLine();
        }
        b.AppendLine("| figure | value |");
        b.AppendLine("|---|---|");
        foreach (var key in new[] { "final_test_accuracy", "final_test_loss", "final_suboptimality", "consensus_distance", "spectral_gap", "steps", "updates_applied",
                     "virtual_time_s", "wall_time_s", "messages_sent", "bytes_sent", "bytes_per_node", "resyncs_applied", "nodes_left" })
            if (s[key] is { } v) b.AppendLine(CultureInfo.InvariantCulture, $"| {key} | {v.ToJsonString(RunDirectory.JsonOptions)} |");
        b.AppendLine();
        b.AppendLine("![accuracy](accuracy.png)");
        if (hasOptimum) b.AppendLine("![suboptimality](suboptimality.png)");
        b.AppendLine("![consensus distance](consensus.png)");
        return b.ToString();
    }
}

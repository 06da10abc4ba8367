using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Runtime.Running;

/// <summary>What <see cref="ExperimentRunner.Run"/> returns: the outcome plus where it was written.</summary>
/// <summary>A finished run: its directory, summary.json's content, the outcome, and a warning for the user (e.g. divergence) or null.</summary>
public sealed record RunResult(string Directory, JsonObject Summary, RunOutcome Outcome, string? Warning = null);

/// <summary>
/// Runs one experiment embedded in this process: builds the learning parts, starts an ActorSystem named
/// <c>actors</c>, lets the coordinator drive the run, then writes the run directory.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>Dispatchers for tensor work, apart from Akka's default one so heartbeats and the clock never starve.</summary>
    public const string LocalSystemConfig = """
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          actor.serialize-messages = off
        }
        actors {
          tensor-dispatcher {
            type = ForkJoinDispatcher
            throughput = 100
            dedicated-thread-pool { thread-count = 1 }
          }
          evaluator-dispatcher {
            type = PinnedDispatcher
          }
        }
        """;

    public static async Task<RunResult> Run(ExperimentSpec spec, string runDirectory, RunProgress progress, Action<string> warn, CancellationToken cancel = default)
    {
        if (spec.IsGossip) return await Gossip.GossipRunner.Run(spec, runDirectory, progress, warn, cancel).ConfigureAwait(false);
        var wall = Stopwatch.StartNew();
        _ = Task.Run(Plots.Warm); // loads the plotting stack off the training thread, while the run goes on
        TorchSetup.Initialize();
        using var parts = ParameterServerParts.Build(spec, warn); // bad input fails here, before a run directory exists
        return await Run(spec, parts, runDirectory, progress, wall, cancel).ConfigureAwait(false);
    }

    /// <summary>Runs with learning parts already built (benchmarks reuse them). Wall time counts from <paramref name="wall"/>.</summary>
    public static async Task<RunResult> Run(ExperimentSpec spec, ParameterServerParts parts, string runDirectory, RunProgress progress, Stopwatch wall, CancellationToken cancel = default)
    {
        using var dir = new RunDirectory(runDirectory);
        dir.WriteConfig(Render(spec.Config));

        var done = new TaskCompletionSource<RunOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var system = ActorSystem.Create("actors", ConfigurationFactory.ParseString(LocalSystemConfig));
        RunOutcome outcome;
        try
        {
            system.ActorOf(ParameterServerCoordinator.Props(spec, parts, dir, progress, done), "coordinator");
            using (cancel.Register(() => done.TrySetCanceled(cancel)))
                outcome = await done.Task.ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
        wall.Stop();

        var summary = Summary(spec, outcome, wall.Elapsed.TotalSeconds, parts.Data.Source, parts.ParameterCount);
        dir.WriteSummary(summary);
        var points = dir.Rows.Select(r => ((double)r.Counters.Step, r.TestAccuracy, r.TestLoss)).ToList();
        Plots.Accuracy(Path.Combine(dir.Path, "accuracy.png"), $"{spec.Name}: {spec.Model.Type}, {spec.Workers.Honest}+{spec.Workers.Byzantine} workers, {spec.Aggregator.Type}", points);
        var warning = DivergenceOf(spec, dir);
        dir.WriteMarkdown(Markdown(spec, summary, warning));
        return new RunResult(dir.Path, summary, outcome, warning);
    }

    /// <summary>The fully resolved configuration, as HOCON.</summary>
    public static string Render(Config config) => HoconWriter.Write(config);

    public static JsonObject Summary(ExperimentSpec spec, RunOutcome o, double wallSeconds, string dataSource, long parameters)
    {
        var s = o.Stats;
        var c = o.Final.Counters;
        var drops = new JsonObject();
        foreach (var (k, v) in s.UpdatesDropped.OrderBy(kv => kv.Key, StringComparer.Ordinal)) drops[k] = v;
        var histogram = new JsonObject();
        foreach (var (k, v) in s.StalenessHistogram) histogram[k.ToString(CultureInfo.InvariantCulture)] = v;
        var perWorker = new JsonArray();
        foreach (var w in s.PerWorker) perWorker.Add(new JsonObject { ["worker"] = w.WorkerId, ["accepted"] = w.Accepted, ["dropped"] = w.Dropped });
        return new JsonObject
        {
            ["name"] = spec.Name,
            ["final_test_accuracy"] = Math.Round(o.Final.TestAccuracy, 6),
            ["final_test_loss"] = Math.Round(o.Final.TestLoss, 6),
            ["steps"] = s.Steps,
            ["updates_applied"] = s.UpdatesApplied,
            ["seed"] = spec.Seed,
            ["mode"] = spec.Mode,
            ["timing_mode"] = ConfigEnum.Name(spec.Timing.Mode),
            ["wall_time_s"] = Math.Round(wallSeconds, 3),
            ["virtual_time_s"] = Math.Round(s.VirtualTimeS, 6),
            ["messages_sent"] = c.MessagesSent,
            ["bytes_sent"] = c.BytesSent,
            ["bytes_uplink"] = c.BytesUplink,
            ["bytes_uplink_uncompressed"] = c.BytesUplinkUncompressed,
            ["updates_dropped"] = drops,
            ["staleness_mean"] = Math.Round(s.StalenessMean, 6),
            ["staleness_max"] = s.StalenessMax,
            ["staleness_histogram"] = histogram,
            ["per_worker"] = perWorker,
            ["workers_crashed"] = 0,
            ["events_released"] = o.EventsReleased,
            ["parameters"] = parameters,
            ["data_source"] = dataSource,
        };
    }

    /// <summary>The divergence warning for a parameter-server run's evaluations (first against last), or null.</summary>
    public static string? DivergenceOf(ExperimentSpec spec, RunDirectory dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var rows = dir.Rows;
        return rows.Count < 2 ? null : Divergence.Describe(spec, rows[0].TestLoss, rows[^1].TestLoss, rows[^1].Counters.Step);
    }

    public static string Markdown(ExperimentSpec spec, JsonObject s, string? warning = null)
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# {spec.Name}");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"{spec.Model.Type} on {spec.Data.Dataset} ({spec.Data.Partition}), {spec.Workers.Honest} honest + {spec.Workers.Byzantine} Byzantine workers, " +
                                                   $"aggregator {spec.Aggregator.Type}, attack {spec.Attack.Type}, timing {ConfigEnum.Name(spec.Timing.Mode)}, {spec.Mode} mode, seed {spec.Seed}.");
        b.AppendLine();
        if (warning is not null)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"**Warning: {warning}**");
            b.AppendLine();
        }
        b.AppendLine("| figure | value |");
        b.AppendLine("|---|---|");
        foreach (var key in new[] { "final_test_accuracy", "final_test_loss", "steps", "updates_applied", "virtual_time_s", "wall_time_s", "messages_sent", "bytes_sent", "bytes_uplink", "staleness_mean", "staleness_max" })
            b.AppendLine(CultureInfo.InvariantCulture, $"| {key} | {s[key]?.ToJsonString(RunDirectory.JsonOptions)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| updates_dropped | {s["updates_dropped"]?.ToJsonString(RunDirectory.JsonOptions)} |");
        b.AppendLine();
        b.AppendLine("![accuracy](accuracy.png)");
        return b.ToString();
    }
}

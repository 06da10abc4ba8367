using System.Diagnostics;
using System.Text.Json.Nodes;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Runtime.Running;

/// <summary>A finished run: its directory, summary.json's content, the outcome, and a warning for the user (e.g. divergence) or null.</summary>
public sealed record RunResult(string Directory, JsonObject Summary, RunOutcome Outcome, string? Warning = null);

/// <summary>
/// Runs one experiment of any kind embedded in this process: prepares the kind's learning parts, starts an ActorSystem
/// named <c>actors</c>, lets the kind's coordinator drive the run, then writes the run directory's report.
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
        var wall = Stopwatch.StartNew();
        var kind = ExperimentKinds.Of(spec);
        _ = Task.Run(Plots.Warm); // loads the plotting stack off the training thread, while the run goes on
        TorchSetup.Initialize();
        if (spec.Compute.Apply() is { } device) warn(device);
        using var run = kind.Prepare(spec, warn); // bad input fails here, before a run directory exists
        return await Run(spec, run, runDirectory, progress, wall, cancel).ConfigureAwait(false);
    }

    /// <summary>Runs with learning parts already prepared (benchmarks reuse them). Wall time counts from <paramref name="wall"/>.</summary>
    public static async Task<RunResult> Run(ExperimentSpec spec, IKindRun run, string runDirectory, RunProgress progress, Stopwatch wall, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(wall);
        var kind = ExperimentKinds.Get(spec.Kind);
        using var dir = new RunDirectory(runDirectory, kind.Columns(spec));
        dir.WriteConfig(Render(spec.Config));

        var done = new TaskCompletionSource<RunOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var system = ActorSystem.Create("actors", ConfigurationFactory.ParseString(LocalSystemConfig));
        RunOutcome outcome;
        try
        {
            system.ActorOf(run.Coordinator(new RunContext(spec, progress, dir, done)), "coordinator");
            using (cancel.Register(() => done.TrySetCanceled(cancel)))
                outcome = await done.Task.ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
        wall.Stop();
        var (summary, warning) = RunReport.Write(dir, kind, spec, outcome, wall.Elapsed.TotalSeconds, run.DataSource, run.Parameters);
        return new RunResult(dir.Path, summary, outcome, warning);
    }

    /// <summary>The fully resolved configuration, as HOCON.</summary>
    public static string Render(Config config) => HoconWriter.Write(config);
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Running;
using Akka.Actor;
using static Actors.Runtime.Cluster.ClusterProtocol;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// <c>actors run --cluster ADDRESS</c>: a remoting-only ActorSystem (it does not join the cluster) submits the experiment to the
/// coordinator singleton through the proxy on the node at ADDRESS, and writes the run directory from what streams back:
/// the same files as a local run, plus <c>workers_crashed</c> and <c>workers_crashed_events</c> in summary.json.
/// </summary>
public static class ClusterRunClient
{
    public static async Task<RunResult> Run(ExperimentSpec spec, string address, string runDirectory, RunProgress progress, Action<string> info, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(info);
        var seed = Address.Parse(ClusterConfig.NormalizeSeed(address));
        var wall = Stopwatch.StartNew();
        _ = Task.Run(Plots.Warm); // loads the plotting stack off the training thread, while the run goes on
        var hocon = ExperimentRunner.Render(spec.Config);
        using var dir = new RunDirectory(runDirectory);
        dir.WriteConfig(hocon);

        var config = ClusterConfig.Load(new ClusterConfigOptions { Roles = ["client"], Overrides = ["akka.actor.provider=remote", "akka.loglevel=ERROR", "akka.remote.log-remote-lifecycle-events=off"] });
        var done = new TaskCompletionSource<RunCompleted>(TaskCreationOptions.RunContinuationsAsynchronously);
        var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        RunCompleted completed;
        try
        {
            var proxy = system.ActorSelection(new RootActorPath(seed) / "user" / ClusterCoordinator.ProxyName);
            system.ActorOf(Props.Create(() => new RunClientActor(proxy, hocon, dir, progress, info, done)), "run-client");
            using (cancel.Register(() => done.TrySetCanceled(cancel)))
                completed = await done.Task.ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
        wall.Stop();

        var final = dir.Rows.LastOrDefault(r => r.Final) ?? dir.Rows.LastOrDefault()
                    ?? throw new RunFailedException("the run completed without any evaluation");
        var stats = completed.Stats.ToStats();
        var figures = ParameterServerKind.Figures(stats);
        figures["cluster"] = seed.ToString();
        figures["workers_crashed"] = completed.Crashes.Sum(c => c.Workers.Length);
        var events = new JsonArray();
        foreach (var c in completed.Crashes.OrderBy(c => c.Step))
        {
            var workers = new JsonArray();
            foreach (var w in c.Workers) workers.Add(w);
            events.Add(new JsonObject { ["step"] = c.Step, ["workers"] = workers, ["node"] = c.Node });
        }
        figures["workers_crashed_events"] = events;
        var restarts = new JsonArray();
        foreach (var v in completed.AggregatorRestarts) restarts.Add(new JsonObject { ["resumed_from_step"] = v });
        figures["aggregator_restarts"] = restarts;
        var outcome = new RunOutcome(stats, final, 0, figures);
        var (summary, warning) = RunReport.Write(dir, ExperimentKinds.Get(spec.Kind), spec, outcome, wall.Elapsed.TotalSeconds, completed.DataSource, completed.Parameters);
        return new RunResult(dir.Path, summary, outcome, warning);
    }

    private sealed class RunClientActor : ReceiveActor
    {
        private static readonly TimeSpan AcceptTimeout = TimeSpan.FromSeconds(60);
        private sealed record NoAnswer;

        public RunClientActor(ActorSelection proxy, string hocon, RunDirectory dir, RunProgress progress, Action<string> info, TaskCompletionSource<RunCompleted> done)
        {
            RunCompleted? completed = null;
            bool final = false;
            var timeout = Context.System.Scheduler.ScheduleTellOnceCancelable(AcceptTimeout, Self, new NoAnswer(), Self);
            proxy.Tell(new SubmitRun(hocon), Self);
            Receive<NoAnswer>(_ => done.TrySetException(new RunFailedException(
                $"no answer from the cluster's coordinator at {proxy.Anchor.Path.Address} within {AcceptTimeout.TotalSeconds:0} s (is a node with role coordinator up, e.g. the seed?)")));
            Receive<RunAccepted>(a =>
            {
                timeout.Cancel();
                Context.Watch(Sender); // the coordinator singleton: if it dies, so does the run
                info($"run {a.RunId}: aggregator on {a.AggregatorNode}; {string.Join("; ", a.WorkerNodes)}");
            });
            Receive<ClusterEvaluation>(e =>
            {
                var r = e.ToResult();
                dir.Append(new MetricsRow(r));
                progress.ReportStep(r.Counters.Step);
                progress.ReportEvaluation(r.TestLoss, r.TestAccuracy);
                final |= r.Final;
                if (final && completed is not null) done.TrySetResult(completed);
            });
            // The final evaluation comes straight from the aggregator's node, completion through the coordinator: either may be first.
            Receive<RunCompleted>(c =>
            {
                completed = c;
                if (final) done.TrySetResult(c);
            });
            Receive<RunRejected>(r =>
            {
                timeout.Cancel();
                done.TrySetException(new RunFailedException(r.Reason));
            });
            Receive<Terminated>(_ => done.TrySetException(new RunFailedException("the coordinator stopped (its node left or died) before the run completed")));
        }
    }
}

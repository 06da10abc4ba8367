using System.Diagnostics;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Protocol;
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
    /// <summary>How long the client waits for any answer from the node at the address before it says nothing is there.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Checks that something listens at <paramref name="address"/> (a TCP connect within <paramref name="timeout"/>), so a
    /// wrong address or a cluster that is not up fails at once, before a run directory is made; exit 2 naming the address.
    /// </summary>
    public static async Task Probe(string address, TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        var seed = Address.Parse(ClusterConfig.NormalizeSeed(address));
        var wait = timeout ?? DefaultConnectTimeout;
        using var client = new System.Net.Sockets.TcpClient();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        cts.CancelAfter(wait);
        try
        {
            await client.ConnectAsync(seed.Host!, seed.Port ?? 0, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new UserInputException($"nothing answers at {seed.Host}:{seed.Port} within {wait.TotalSeconds:0} s: is the seed up there? (check the address, or wait longer with --connect-timeout SECONDS)");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new UserInputException($"nothing listens at {seed.Host}:{seed.Port} ({e.SocketErrorCode}): start the cluster first (actors seed / actors up), or check the address");
        }
    }

    /// <summary>
    /// <c>actors status --cluster ADDRESS</c>: the members (roles, status, reachability) and the runs (queued, running with their
    /// step, done) as the coordinator sees them, asked through the proxy on the node at <paramref name="address"/>.
    /// </summary>
    public static async Task<ClusterStatus> Status(string address, TimeSpan? timeout = null)
    {
        var wait = timeout ?? DefaultConnectTimeout;
        await Probe(address, wait).ConfigureAwait(false);
        await using var watcher = new ClusterWatcher(address);
        return await watcher.Query(wait).ConfigureAwait(false);
    }

    public static async Task<RunResult> Run(ExperimentSpec spec, string address, string runDirectory, RunProgress progress, Action<string> info, CancellationToken cancel = default,
        TimeSpan? connectTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(info);
        var seed = Address.Parse(ClusterConfig.NormalizeSeed(address));
        var wall = Stopwatch.StartNew();
        _ = Task.Run(Plots.Warm); // loads the plotting stack off the training thread, while the run goes on
        var hocon = ExperimentRunner.Render(spec.Config);
        using var dir = new RunDirectory(runDirectory, ExperimentKinds.Get(spec.Kind).Columns(spec));
        dir.WriteConfig(hocon);

        var config = ClusterConfig.Client();
        var done = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var gossipRows = new List<Gossip.GossipProtocol.GossipEvaluation>();
        var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        object completion;
        try
        {
            var proxy = system.ActorSelection(new RootActorPath(seed) / "user" / ClusterCoordinator.ProxyName);
            var connect = connectTimeout ?? DefaultConnectTimeout;
            system.ActorOf(Props.Create(() => new RunClientActor(proxy, hocon, dir, progress, info, done, connect, gossipRows)), "run-client");
            using (cancel.Register(() => done.TrySetCanceled(cancel)))
                completion = await done.Task.ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
        wall.Stop();

        var final = dir.Rows.LastOrDefault(r => r.Final) ?? dir.Rows.LastOrDefault()
                    ?? throw new RunFailedException("the run completed without any evaluation");
        if (completion is GossipRunCompleted gossip) return GossipSummary(spec, seed, dir, final, gossipRows[^1], gossip, wall.Elapsed.TotalSeconds);
        var completed = (RunCompleted)completion;
        var stats = completed.Stats.ToStats(completed.Sent);
        var figures = ParameterServerKind.Figures(stats);
        figures["cluster"] = seed.ToString();
        // The kind's figures travel in the evaluation rows' extra columns (after pruning's two when the run prunes).
        var columns = ExperimentKinds.Get(spec.Kind).Columns(spec).Select(c => c.Name).Skip(spec.Pruning.Enabled ? 2 : 0).ToList();
        long reentries = spec.Pruning.Enabled ? dir.Rows.Where(r => r.Extras.Count >= 2).Sum(r => (long)r.Extras[1]) : 0;
        ParameterServerKind.AddRowFigures(figures, spec, final, reentries, columns);
        AddCrashes(figures, completed.Crashes);
        var restarts = new JsonArray();
        foreach (var v in completed.AggregatorRestarts) restarts.Add(new JsonObject { ["resumed_from_step"] = v });
        figures["aggregator_restarts"] = restarts;
        var outcome = new RunOutcome(stats, final, 0, figures);
        var (summary, warning) = RunReport.Write(dir, ExperimentKinds.Get(spec.Kind), spec, outcome, wall.Elapsed.TotalSeconds, completed.DataSource, completed.Parameters);
        return new RunResult(dir.Path, summary, outcome, warning);
    }

    private static void AddCrashes(JsonObject figures, CrashEvent[] crashes)
    {
        figures["workers_crashed"] = crashes.Sum(c => c.Workers.Length);
        var events = new JsonArray();
        foreach (var c in crashes.OrderBy(c => c.Step))
        {
            var workers = new JsonArray();
            foreach (var w in c.Workers) workers.Add(w);
            events.Add(new JsonObject { ["step"] = c.Step, ["workers"] = workers, ["node"] = c.Node });
        }
        figures["workers_crashed_events"] = events;
    }

    /// <summary>A gossip run's summary, as a local one's (<see cref="Gossip.GossipCoordinator"/>) plus the peers lost with their nodes.</summary>
    private static RunResult GossipSummary(ExperimentSpec spec, Address seed, RunDirectory dir, MetricsRow final, Gossip.GossipProtocol.GossipEvaluation last,
        GossipRunCompleted done, double wallSeconds)
    {
        var stats = new TrainingStats(done.Steps, done.UpdatesApplied, done.VirtualTimeS, Gossip.GossipKind.Drops(last), 0, 0, new Dictionary<long, long>(),
            last.PerNode.Select((c, i) => new WorkerCounts(i, c.LocalSteps, c.Dropped)).ToList());
        var section = Gossip.GossipSection.Of(spec);
        var topology = Gossip.GossipParts.CreateTopology(spec, section);
        var figures = Gossip.GossipKind.Figures(section.Algorithm, section.Topology.Type, topology.Nodes, Learning.Gossip.SpectralGap.Of(topology), last, done.Leaves, done.Rejoins);
        figures["cluster"] = seed.ToString();
        var lost = new JsonArray();
        foreach (var p in done.Lost) lost.Add(p);
        figures["nodes_lost"] = lost;
        AddCrashes(figures, done.Crashes);
        var outcome = new RunOutcome(stats, final, 0, figures);
        var (summary, warning) = RunReport.Write(dir, ExperimentKinds.Get(spec.Kind), spec, outcome, wallSeconds, done.DataSource, done.Parameters);
        return new RunResult(dir.Path, summary, outcome, warning);
    }

    private sealed class RunClientActor : ReceiveActor
    {
        private static readonly TimeSpan AcceptTimeout = TimeSpan.FromSeconds(60);
        private sealed record NoAnswer;
        private sealed record NoNode;

        public RunClientActor(ActorSelection proxy, string hocon, RunDirectory dir, RunProgress progress, Action<string> info, TaskCompletionSource<object> done,
            TimeSpan connectTimeout, List<Gossip.GossipProtocol.GossipEvaluation> gossipRows)
        {
            object? completed = null;
            bool final = false;
            // First the node itself (its proxy answers Identify at once when anything listens there), then the coordinator,
            // which may take longer to answer on a cluster that is still forming.
            var address = proxy.Anchor.Path.Address;
            var connect = Context.System.Scheduler.ScheduleTellOnceCancelable(connectTimeout, Self, new NoNode(), Self);
            ICancelable? timeout = null;
            proxy.Tell(new Identify("node"), Self);
            Receive<ActorIdentity>(id =>
            {
                connect.Cancel();
                if (id.Subject is null)
                {
                    done.TrySetException(new UserInputException($"the node at {address} is not an Actors cluster node (no coordinator proxy there): give the address of a seed or node"));
                    return;
                }
                timeout = Context.System.Scheduler.ScheduleTellOnceCancelable(AcceptTimeout, Self, new NoAnswer(), Self);
                proxy.Tell(new SubmitRun(hocon), Self);
            });
            Receive<NoNode>(_ => done.TrySetException(new UserInputException(
                $"nothing answers at {address} within {connectTimeout.TotalSeconds:0} s: is the seed up there? (check the address, or wait longer with --connect-timeout SECONDS)")));
            Receive<NoAnswer>(_ => done.TrySetException(new RunFailedException(
                $"no answer from the cluster's coordinator at {address} within {AcceptTimeout.TotalSeconds:0} s (is a node with role coordinator up, e.g. the seed?)")));
            Receive<RunNotice>(n => info($"cluster: {n.Message}"));
            Receive<RunQueued>(q =>
            {
                timeout?.Cancel(); // the coordinator answered: wait for the turn as long as it takes
                info($"cluster: busy with run {q.Running}: run {q.RunId} is queued (position {q.Position}); it starts when the runs before it end (Ctrl-C leaves the queue)");
            });
            Receive<RunAccepted>(a =>
            {
                timeout?.Cancel();
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
            Receive<ClusterGossipEvaluation>(g =>
            {
                var e = g.ToEvaluation();
                gossipRows.Add(e);
                dir.Append(Gossip.GossipKind.Row(e));
                progress.ReportStep(e.Counters.Step);
                progress.ReportEvaluation(e.TestLoss, e.TestAccuracy);
                final |= e.Final;
                if (final && completed is not null) done.TrySetResult(completed);
            });
            // The final evaluation comes straight from the aggregator's node, completion through the coordinator: either may be first.
            Receive<RunCompleted>(c =>
            {
                completed = c;
                if (final) done.TrySetResult(c);
            });
            Receive<GossipRunCompleted>(c =>
            {
                completed = c;
                if (final) done.TrySetResult(c);
            });
            Receive<RunRejected>(r =>
            {
                timeout?.Cancel();
                done.TrySetException(new RunFailedException(r.Reason));
            });
            Receive<Terminated>(_ => done.TrySetException(new RunFailedException("the coordinator stopped (its node left or died) before the run completed")));
        }
    }
}

/// <summary>
/// Asks a cluster's coordinator for its <see cref="ClusterStatus"/> as often as needed, through one remoting-only actor system
/// (it does not join the cluster): <c>actors status</c> once, the dashboard of <c>actors up</c> every second.
/// </summary>
public sealed class ClusterWatcher : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly ActorSelection _proxy;
    private readonly Address _seed;
    private bool _identified;

    public ClusterWatcher(string address)
    {
        _seed = Address.Parse(ClusterConfig.NormalizeSeed(address));
        var config = ClusterConfig.Client();
        _system = ActorSystem.Create(ClusterConfig.SystemName, config);
        _proxy = _system.ActorSelection(new RootActorPath(_seed) / "user" / ClusterCoordinator.ProxyName);
    }

    /// <summary>The coordinator's view now; a node that is not an Actors node is <see cref="UserInputException"/>, no answer <see cref="RunFailedException"/>.</summary>
    public async Task<ClusterStatus> Query(TimeSpan timeout)
    {
        try
        {
            if (!_identified)
            {
                var identity = await _proxy.Ask<ActorIdentity>(new Identify("node"), timeout).ConfigureAwait(false);
                if (identity.Subject is null)
                    throw new UserInputException($"the node at {_seed} is not an Actors cluster node (no coordinator proxy there): give the address of a seed or node");
                _identified = true;
            }
        }
        catch (AskTimeoutException)
        {
            throw new UserInputException($"nothing answers at {_seed} within {timeout.TotalSeconds:0} s: is the seed up there?");
        }
        try
        {
            return await _proxy.Ask<ClusterStatus>(new StatusQuery(), timeout + TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new RunFailedException($"no answer from the cluster's coordinator at {_seed} (is a node with role coordinator up, e.g. the seed?)");
        }
    }

    public async ValueTask DisposeAsync() => await _system.Terminate().ConfigureAwait(false);
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Actors.Cli.Commands;
using Xunit.Abstractions;

namespace Actors.Cli.Tests.Cluster;

/// <summary>
/// The CI check with real processes of the built <c>actors</c> binary on loopback: a seed (coordinator + aggregator) and
/// two worker nodes, an experiment through <c>actors run --cluster</c>, one worker node killed mid-run; the run completes.
/// </summary>
public sealed class ClusterProcessSpec(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly List<Process> _processes = [];
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // never started or already reaped
            }
            p.Dispose();
        }
        foreach (var line in _log.TakeLast(60)) output.WriteLine(line);
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact(Timeout = 150_000)]
    public async Task Run_survives_a_killed_worker_node_and_writes_summary()
    {
        var port = TestProcesses.FreePort();
        var seed = $"127.0.0.1:{port}";
        var up = new ConcurrentDictionary<string, bool>();
        Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--roles", "aggregator"], up);
        await WaitFor(() => up.ContainsKey("seed"), TimeSpan.FromSeconds(40), "seed up");
        var node1 = Start("node1", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        var node2 = Start("node2", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        await WaitFor(() => up.ContainsKey("node1") && up.ContainsKey("node2"), TimeSpan.FromSeconds(40), "both worker nodes up");

        var run = Path.Combine(_dir, "run");
        var client = Start("run", ["run", "--quiet", "--cluster", seed, "--out", run,
            "--set", "data.dataset=synthetic", "--set", "data.synthetic.train=2000", "--set", "data.synthetic.test=500", "--set", "data.synthetic.features=32",
            "--set", "model.type=logreg", "--set", "workers.honest=4", "--set", "experiment.steps=3000", "--set", "experiment.eval-every=250",
            "--set", "experiment.name=cluster-ci"], up);

        // Kill a worker node once training is visibly under way (two evaluation rows after the header).
        var metrics = Path.Combine(run, "metrics.csv");
        await WaitFor(() => File.Exists(metrics) && ReadShared(metrics).Count(l => l.Length > 0) >= 3, TimeSpan.FromSeconds(60), "training under way");
        node2.Kill(entireProcessTree: true);
        _log.Enqueue($"killed node2 at {DateTime.UtcNow:HH:mm:ss.fff}");

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(70))) await client.WaitForExitAsync(cts.Token);
        Assert.Equal(0, client.ExitCode);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.Equal(3000, summary["steps"]!.GetValue<long>());
        Assert.True(summary["bytes_uplink"]!.GetValue<long>() > 0, "updates are counted where they arrive");
        Assert.True(summary["workers_crashed"]!.GetValue<int>() >= 1, summary.ToJsonString());
        var events = summary["workers_crashed_events"]!.AsArray();
        Assert.NotEmpty(events);
        Assert.True(events[0]!["step"]!.GetValue<long>() > 0);
        foreach (var f in new[] { "config.hocon", "metrics.csv", "summary.md", "accuracy.png" })
            Assert.True(File.Exists(Path.Combine(run, f)), $"{f} missing");
        Assert.False(node1.HasExited, "the surviving worker node stays up");
        Assert.Contains(_log, l => l.StartsWith("[run] cluster: node ", StringComparison.Ordinal) && l.Contains(" lost at step ", StringComparison.Ordinal)
                                   && l.Contains("continuing with 2 of 4 workers", StringComparison.Ordinal)); // the client's terminal says what changed
    }

    [Fact(Timeout = 90_000)]
    public async Task Children_of_up_stop_when_up_is_killed()
    {
        var port = TestProcesses.FreePort();
        var up = new ConcurrentDictionary<string, bool>();
        var parent = Start("up", ["up", "--nodes", "2", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], up);
        await WaitFor(() => _log.Any(l => l.Contains("[node1] node up:", StringComparison.Ordinal)), TimeSpan.FromSeconds(60), "up's nodes up");
        var children = Process.GetProcesses().Where(p => TestProcesses.ParentOf(p.Id) == parent.Id).ToList();
        Assert.Equal(2, children.Count);
        parent.Kill(); // SIGKILL: up gets no chance to stop its children
        var clock = Stopwatch.StartNew();
        while (children.Any(c => !c.HasExited) && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(200);
        foreach (var c in children.Where(c => !c.HasExited)) c.Kill();
        Assert.True(children.All(c => c.HasExited), "a child outlived its parent");
        _log.Enqueue($"children gone {clock.Elapsed.TotalSeconds:0.0} s after the parent");
    }

    /// <summary>
    /// The aggregator's node dies: the aggregator restarts on the other aggregator node from the last checkpoint and the run
    /// completes. The MLP (~200k parameters, 814 kB per model) is bigger than an Akka frame: models and updates take the bulk
    /// side channel and checkpoints travel in chunks.
    /// </summary>
    [Fact(Timeout = 150_000)]
    public async Task A_federated_run_spreads_its_client_slots_over_worker_nodes_and_vanished_clients_cross_nodes_too()
    {
        var port = TestProcesses.FreePort();
        var seed = $"127.0.0.1:{port}";
        var up = new ConcurrentDictionary<string, bool>();
        Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--roles", "aggregator"], up);
        await WaitFor(() => up.ContainsKey("seed"), TimeSpan.FromSeconds(40), "seed up");
        Start("node1", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        Start("node2", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        await WaitFor(() => up.ContainsKey("node1") && up.ContainsKey("node2"), TimeSpan.FromSeconds(40), "both worker nodes up");

        string[] federated = ["--set", "data.dataset=synthetic", "--set", "data.synthetic.train=1000", "--set", "data.synthetic.test=300", "--set", "model.type=logreg",
            "--set", "experiment.kind=federated", "--set", "federated.clients=12", "--set", "federated.clients-per-round=4", "--set", "workers.honest=4",
            "--set", "federated.local-steps=3", "--set", "federated.dropout=0.3", "--set", "experiment.steps=30", "--set", "experiment.eval-every=10",
            "--set", "optimizer.momentum=0"];
        var run = Path.Combine(_dir, "run");
        var client = Start("run", ["run", "--quiet", "--cluster", seed, "--out", run, .. federated], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(80))) await client.WaitForExitAsync(cts.Token);
        Assert.Equal(0, client.ExitCode);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.Equal("federated", summary["kind"]!.GetValue<string>());
        Assert.Equal(30, summary["steps"]!.GetValue<long>());
        long vanished = summary["updates_dropped"]!["vanished"]!.GetValue<long>();
        Assert.InRange(vanished, 1, 30 * 3);
        Assert.Equal(30 * 4 - vanished, summary["updates_applied"]!.GetValue<long>());
        Assert.True(summary["final_test_accuracy"]!.GetValue<double>() > 0.5, summary.ToJsonString());

        // A game through the same actors on the same nodes: its own figure reaches summary.json from the evaluation rows.
        var game = Path.Combine(_dir, "game");
        var gameClient = Start("game", ["run", "--quiet", "--cluster", seed, "--out", game, "--set", "experiment.kind=game", "--set", "game.type=bilinear",
            "--set", "optimizer.lr=0.1", "--set", "optimizer.momentum=0", "--set", "optimizer.lookahead.k=5", "--set", "workers.honest=2",
            "--set", "experiment.steps=200", "--set", "experiment.eval-every=100"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await gameClient.WaitForExitAsync(cts.Token);
        Assert.Equal(0, gameClient.ExitCode);
        var gameSummary = JsonNode.Parse(File.ReadAllText(Path.Combine(game, "summary.json")))!.AsObject();
        Assert.Equal("game", gameSummary["kind"]!.GetValue<string>());
        Assert.True(gameSummary["distance_to_equilibrium"]!.GetValue<double>() < 1.0, gameSummary.ToJsonString()); // lookahead-GDA converges on the bilinear game

        // Mime's two phases run in step on the server and the slots of two nodes: the same rows as one process (realtime).
        string[] mime = [.. federated, "--set", "federated.algorithm=mime", "--set", "federated.dropout=0"];
        var mimeCluster = Start("mime", ["run", "--quiet", "--cluster", seed, "--out", Path.Combine(_dir, "mime-cluster"), .. mime], up);
        var mimeLocal = Start("mime-local", ["run", "--quiet", "--out", Path.Combine(_dir, "mime-local"), .. mime, "--set", "experiment.mode=realtime"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await mimeCluster.WaitForExitAsync(cts.Token);
            await mimeLocal.WaitForExitAsync(cts.Token);
        }
        Assert.Equal(0, mimeCluster.ExitCode);
        Assert.Equal(0, mimeLocal.ExitCode);
        Assert.Equal(Columns(Path.Combine(_dir, "mime-local"), 4), Columns(Path.Combine(_dir, "mime-cluster"), 4));

        // SCAFFOLD: a client's c_i outlives its round, and the next slot to sample the client may live on the other node. The
        // clients' state is kept on the aggregator's node: the same rows as one process, with dropout (a vanished client's c_i stays).
        string[] scaffold = [.. federated, "--set", "federated.algorithm=scaffold"];
        var scaffoldCluster = Start("scaffold", ["run", "--quiet", "--cluster", seed, "--out", Path.Combine(_dir, "scaffold-cluster"), .. scaffold], up);
        var scaffoldLocal = Start("scaffold-local", ["run", "--quiet", "--out", Path.Combine(_dir, "scaffold-local"), .. scaffold, "--set", "experiment.mode=realtime"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await scaffoldCluster.WaitForExitAsync(cts.Token);
            await scaffoldLocal.WaitForExitAsync(cts.Token);
        }
        Assert.Equal(0, scaffoldCluster.ExitCode);
        Assert.Equal(0, scaffoldLocal.ExitCode);
        Assert.Equal(Columns(Path.Combine(_dir, "scaffold-local"), 4), Columns(Path.Combine(_dir, "scaffold-cluster"), 4));
        var scaffoldSummary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "scaffold-cluster", "summary.json")))!.AsObject();
        var localSummary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "scaffold-local", "summary.json")))!.AsObject();
        Assert.Equal(localSummary["bytes_sent"]!.GetValue<long>(), scaffoldSummary["bytes_sent"]!.GetValue<long>()); // the store's traffic is not learning traffic
    }

    /// <summary>
    /// Three nodes started with config discovery and no seed list (issue 23): the bootstrap forms one cluster, <c>/ready</c>
    /// answers 503 until a node is up and 200 after, <c>/alive</c> 200 throughout, and a run completes on the cluster.
    /// </summary>
    [Fact(Timeout = 150_000)]
    public async Task Nodes_started_with_config_discovery_and_no_seeds_form_a_cluster_and_complete_a_run()
    {
        int[] management = [TestProcesses.FreePort(), TestProcesses.FreePort(), TestProcesses.FreePort()];
        var remoting = TestProcesses.FreePort();
        string[] contacts = [.. management.SelectMany(m => new[] { "--contact-point", $"127.0.0.1:{m}" })];
        string P(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var up = new ConcurrentDictionary<string, bool>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        async Task<int> Status(int port, string path)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
                return (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                return 0; // not listening yet
            }
        }

        Start("first", ["node", "--discovery", "config", .. contacts, "--management-port", P(management[0]), "--host", "127.0.0.1", "--port", P(remoting), "--roles", "coordinator,aggregator"], up);
        // Alone, the first node cannot form a cluster: 3 contact points are required. It is alive and not ready.
        var clock = Stopwatch.StartNew();
        while (await Status(management[0], "/alive") != 200)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), "the first node's management endpoint never answered /alive");
            await Task.Delay(250);
        }
        Assert.Equal(503, await Status(management[0], "/ready"));
        Start("second", ["node", "--discovery", "config", .. contacts, "--management-port", P(management[1]), "--host", "127.0.0.1", "--roles", "worker"], up);
        Start("third", ["node", "--discovery", "config", .. contacts, "--management-port", P(management[2]), "--host", "127.0.0.1", "--roles", "worker"], up);
        await WaitFor(() => up.ContainsKey("first") && up.ContainsKey("second") && up.ContainsKey("third"), TimeSpan.FromSeconds(60), "three nodes up by bootstrap");
        foreach (var m in management) Assert.Equal(200, await Status(m, "/ready"));
        Assert.DoesNotContain(_log, l => l.Contains("seed-nodes configured", StringComparison.Ordinal) && !l.Contains("No seed-nodes", StringComparison.Ordinal));

        var run = Path.Combine(_dir, "discovered");
        var client = Start("run", ["run", "--quiet", "--cluster", $"127.0.0.1:{remoting}", "--out", run, "--set", "data.dataset=synthetic", "--set", "data.synthetic.train=1000",
            "--set", "data.synthetic.test=300", "--set", "model.type=logreg", "--set", "workers.honest=4", "--set", "experiment.steps=60", "--set", "experiment.eval-every=30"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await client.WaitForExitAsync(cts.Token);
        Assert.Equal(0, client.ExitCode);
        Assert.Contains(_log, l => l.StartsWith("[run]", StringComparison.Ordinal) && l.Split("<- workers").Length == 3); // workers on both discovered worker nodes
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.Equal(60, summary["steps"]!.GetValue<long>());
    }

    [Fact(Timeout = 180_000)]
    public async Task Byzantine_workers_attack_across_nodes_like_they_do_in_one_process()
    {
        var port = TestProcesses.FreePort();
        var seed = $"127.0.0.1:{port}";
        var up = new ConcurrentDictionary<string, bool>();
        Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--roles", "aggregator"], up);
        await WaitFor(() => up.ContainsKey("seed"), TimeSpan.FromSeconds(40), "seed up");
        Start("node1", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        Start("node2", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        await WaitFor(() => up.ContainsKey("node1") && up.ContainsKey("node2"), TimeSpan.FromSeconds(40), "both worker nodes up");

        // ALIE (omniscient: the honest updates are tapped to the attackers on the other node too), 2 of 10, CClip + bucketing, sync.
        // The MLP's 814 kB updates and taps take the bulk side channel.
        string[] alie = ["--set", "workers.honest=8", "--set", "workers.byzantine=2", "--set", "attack.type=alie", "--set", "aggregator.type=cclip",
            "--set", "aggregator.bucket-size=2", "--set", "experiment.steps=40", "--set", "experiment.eval-every=20", "--set", "experiment.name=alie"];
        var onCluster = Path.Combine(_dir, "alie-cluster");
        var local = Path.Combine(_dir, "alie-local");
        var client = Start("alie", ["run", "--quiet", "--cluster", seed, "--out", onCluster, .. alie], up);
        var reference = Start("local", ["run", "--quiet", "--out", local, .. alie, "--set", "experiment.mode=realtime"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            await client.WaitForExitAsync(cts.Token);
            await reference.WaitForExitAsync(cts.Token);
        }
        Assert.Equal(0, client.ExitCode);
        Assert.Equal(0, reference.ExitCode);
        var rows = Columns(onCluster, 3);
        Assert.Equal(4, rows.Length); // header, steps 0, 20, 40
        Assert.Equal(Columns(local, 3), rows); // identical test loss and accuracy at every evaluation
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(onCluster, "summary.json")))!.AsObject();
        Assert.Equal(400, summary["updates_applied"]!.GetValue<long>()); // the attackers' updates arrived every round

        // Flood: each attacker sends 10 copies a round; the aggregator's node keeps up, accepts one, counts the rest.
        var flood = Path.Combine(_dir, "flood");
        var flooding = Start("flood", ["run", "--quiet", "--cluster", seed, "--out", flood, .. alie, "--set", "attack.type=flood"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await flooding.WaitForExitAsync(cts.Token);
        Assert.Equal(0, flooding.ExitCode);
        var floodSummary = JsonNode.Parse(File.ReadAllText(Path.Combine(flood, "summary.json")))!.AsObject();
        Assert.Equal(400, floodSummary["updates_applied"]!.GetValue<long>());
        var dropped = floodSummary["updates_dropped"]!.AsObject();
        long extras = dropped["duplicate"]!.GetValue<long>() + (dropped["flood"]?.GetValue<long>() ?? 0);
        Assert.InRange(extras, 2 * 9 * 39, 2 * 9 * 40); // the last round's extras may land after the run ended
        Assert.DoesNotContain(_log, l => l.Contains("UNREACHABLE", StringComparison.OrdinalIgnoreCase) || l.Contains("is unreachable", StringComparison.Ordinal));
    }

    [Fact(Timeout = 150_000)]
    public async Task Two_runs_submitted_at_once_both_complete_one_after_the_other_and_status_lists_them()
    {
        var port = TestProcesses.FreePort();
        var seed = $"127.0.0.1:{port}";
        var up = new ConcurrentDictionary<string, bool>();
        Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--roles", "aggregator"], up);
        await WaitFor(() => up.ContainsKey("seed"), TimeSpan.FromSeconds(40), "seed up");
        Start("node1", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        await WaitFor(() => up.ContainsKey("node1"), TimeSpan.FromSeconds(40), "worker node up");

        string[] small = ["--set", "data.dataset=synthetic", "--set", "data.synthetic.train=1000", "--set", "data.synthetic.test=300", "--set", "model.type=logreg",
            "--set", "workers.honest=3", "--set", "experiment.steps=600", "--set", "experiment.eval-every=200"];
        var first = Start("first", ["run", "--quiet", "--cluster", seed, "--out", Path.Combine(_dir, "first"), .. small, "--set", "experiment.name=first"], up);
        await WaitFor(() => _log.Any(l => l.StartsWith("[first] run ", StringComparison.Ordinal)), TimeSpan.FromSeconds(40), "first run accepted");
        var second = Start("second", ["run", "--quiet", "--cluster", seed, "--out", Path.Combine(_dir, "second"), .. small, "--set", "experiment.name=second",
            "--set", "experiment.seed=2"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(80)))
        {
            await first.WaitForExitAsync(cts.Token);
            await second.WaitForExitAsync(cts.Token);
        }
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains(_log, l => l.StartsWith("[second] cluster: busy with run ", StringComparison.Ordinal) && l.Contains("(position 1)", StringComparison.Ordinal));
        foreach (var (name, runSeed) in new[] { ("first", 1), ("second", 2) })
        {
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, name, "summary.json")))!.AsObject();
            Assert.Equal(name, summary["name"]!.GetValue<string>());
            Assert.Equal(runSeed, summary["seed"]!.GetValue<int>());
            Assert.Equal(600, summary["steps"]!.GetValue<long>());
        }

        var status = Start("status", ["status", "--cluster", seed, "--json"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40))) await status.WaitForExitAsync(cts.Token);
        Assert.Equal(0, status.ExitCode);
        var json = JsonNode.Parse(_log.Single(l => l.StartsWith("[status] {", StringComparison.Ordinal))["[status] ".Length..])!.AsObject();
        Assert.Equal(2, json["members"]!.AsArray().Count);
        Assert.All(json["members"]!.AsArray(), m => Assert.True(m!["reachable"]!.GetValue<bool>()));
        var runs = json["runs"]!.AsArray();
        Assert.Equal(["first", "second"], runs.Select(r => r!["name"]!.GetValue<string>()));
        Assert.All(runs, r => Assert.Equal("completed", r!["state"]!.GetValue<string>()));
    }

    [Fact(Timeout = 180_000)]
    public async Task Gossip_peers_spread_over_nodes_converge_as_in_simulation_and_a_killed_node_is_churn_that_does_not_come_back()
    {
        var port = TestProcesses.FreePort();
        var seed = $"127.0.0.1:{port}";
        var up = new ConcurrentDictionary<string, bool>();
        Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--roles", "aggregator"], up);
        await WaitFor(() => up.ContainsKey("seed"), TimeSpan.FromSeconds(40), "seed up");
        Start("node1", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        var node2 = Start("node2", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"], up);
        await WaitFor(() => up.ContainsKey("node1") && up.ContainsKey("node2"), TimeSpan.FromSeconds(40), "both worker nodes up");

        // LEAD on the shipped 8-node ring: 4 peers per node, packets between nodes, the topology and evaluator on the seed.
        var file = Path.Combine(FindRepo(), "cluster-config", "experiments", "lead-logreg.hocon");
        var onCluster = Path.Combine(_dir, "lead-cluster");
        var simulated = Path.Combine(_dir, "lead-sim");
        var client = Start("lead", ["run", file, "--quiet", "--cluster", seed, "--out", onCluster, "--set", "experiment.steps=600", "--set", "experiment.eval-every=200"], up);
        var reference = Start("sim", ["run", file, "--quiet", "--out", simulated, "--set", "experiment.steps=600", "--set", "experiment.eval-every=200"], up);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(80)))
        {
            await client.WaitForExitAsync(cts.Token);
            await reference.WaitForExitAsync(cts.Token);
        }
        Assert.Equal(0, client.ExitCode);
        Assert.Equal(0, reference.ExitCode);
        // Every column but the clock: loss, accuracy, updates, messages, bytes, consensus distance, suboptimality.
        static string[] Rows(string run) => [.. File.ReadLines(Path.Combine(run, "metrics.csv")).Select(l => l.Split(',')).Select(c => string.Join(',', c[..4].Concat(c[5..])))];
        Assert.Equal(Rows(simulated), Rows(onCluster));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(onCluster, "summary.json")))!.AsObject();
        Assert.Equal("gossip", summary["kind"]!.GetValue<string>());
        Assert.True(summary["final_suboptimality"]!.GetValue<double>() < 1e-6, summary.ToJsonString());

        // A worker node killed mid-run: its four peers are lost for good, the other four re-plan and finish the run.
        var churn = Path.Combine(_dir, "lead-kill");
        var killed = Start("kill", ["run", file, "--quiet", "--cluster", seed, "--out", churn, "--set", "experiment.steps=20000", "--set", "experiment.eval-every=200"], up);
        var metrics = Path.Combine(churn, "metrics.csv");
        await WaitFor(() => File.Exists(metrics) && ReadShared(metrics).Count(l => l.Length > 0) >= 3, TimeSpan.FromSeconds(60), "gossip under way");
        node2.Kill(entireProcessTree: true);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(100))) await killed.WaitForExitAsync(cts.Token);
        Assert.Equal(0, killed.ExitCode);
        var after = JsonNode.Parse(File.ReadAllText(Path.Combine(churn, "summary.json")))!.AsObject();
        Assert.Equal(20000, after["steps"]!.GetValue<long>());
        Assert.Equal(4, after["workers_crashed"]!.GetValue<int>());
        Assert.Equal(4, after["nodes_lost"]!.AsArray().Count);
        Assert.Contains(_log, l => l.StartsWith("[kill] cluster: node ", StringComparison.Ordinal) && l.Contains("continuing with 4 of 8 workers", StringComparison.Ordinal));
    }

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln"))) return dir.FullName;
        throw new InvalidOperationException("the repository (Actors.sln) is not above the test binaries");
    }

    [Fact(Timeout = 150_000)]
    public async Task Run_resumes_from_a_checkpoint_when_the_aggregator_node_dies()
    {
        var port = TestProcesses.FreePort();
        var seed = $"127.0.0.1:{port}";
        var up = new ConcurrentDictionary<string, bool>();
        Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], up);
        await WaitFor(() => up.ContainsKey("seed"), TimeSpan.FromSeconds(40), "seed up");
        var first = Start("agg1", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "aggregator"], up);
        var second = Start("agg2", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "aggregator,worker"], up);
        await WaitFor(() => up.ContainsKey("agg1") && up.ContainsKey("agg2"), TimeSpan.FromSeconds(40), "both nodes up");

        var run = Path.Combine(_dir, "run");
        var client = Start("run", ["run", "--quiet", "--cluster", seed, "--out", run,
            "--set", "data.dataset=synthetic", "--set", "data.synthetic.train=1000", "--set", "data.synthetic.test=300",
            "--set", "model.type=mlp", "--set", "workers.honest=2", "--set", "experiment.steps=120", "--set", "experiment.eval-every=20",
            "--set", "cluster.checkpoint-every=20", "--set", "experiment.name=cluster-failover",
            "--set", "pruning.type=dpf", "--set", "pruning.sparsity=0.8", "--set", "pruning.every=10"], up); // pruning through a failover, too

        var metrics = Path.Combine(run, "metrics.csv");
        await WaitFor(() => File.Exists(metrics) && ReadShared(metrics).Count(l => l.Length > 0) >= 4, TimeSpan.FromSeconds(60), "training under way");
        first.Kill(entireProcessTree: true); // the preferred aggregator node: it hosts no workers
        _log.Enqueue($"killed agg1 at {DateTime.UtcNow:HH:mm:ss.fff}");

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(80))) await client.WaitForExitAsync(cts.Token);
        Assert.Equal(0, client.ExitCode);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        Assert.Equal(120, summary["steps"]!.GetValue<long>());
        var restarts = summary["aggregator_restarts"]!.AsArray();
        Assert.Single(restarts);
        Assert.True(restarts[0]!["resumed_from_step"]!.GetValue<long>() >= 20, summary.ToJsonString());
        // The totals continue from the checkpoint: two workers, every sync round closes with both, 120 rounds in all.
        Assert.Equal(240, summary["updates_applied"]!.GetValue<long>());
        // The pruning columns travel back from the aggregator's node, and the mask is rebuilt after the restart.
        Assert.EndsWith(",sparsity,pruning_reentries", File.ReadLines(metrics).First(), StringComparison.Ordinal);
        Assert.InRange(summary["sparsity"]!.GetValue<double>(), 0.799, 0.801);
        Assert.False(second.HasExited);
    }

    private Process Start(string name, string[] args, ConcurrentDictionary<string, bool> up)
    {
        var info = UpCommand.SelfStartInfo(args);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.Environment["ACTORS_LOGLEVEL"] = "WARNING";
        var p = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        _processes.Add(p);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _log.Enqueue($"[{name}] {e.Data}");
            if (e.Data.Contains(" up: ", StringComparison.Ordinal)) up[name] = true;
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue($"[{name}!] {e.Data}"); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>metrics.csv's first <paramref name="count"/> columns, line by line (step, loss, accuracy[, updates]: the learning, not the clock).</summary>
    private static string[] Columns(string run, int count) =>
        [.. File.ReadLines(Path.Combine(run, "metrics.csv")).Select(l => string.Join(',', l.Split(',')[..count]))];

    private static string[] ReadShared(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(s);
        return r.ReadToEnd().Split('\n');
    }

    private async Task WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:0} s");
            if (_processes.FirstOrDefault(p => p.HasExited && p.ExitCode != 0 && p.ExitCode != 137) is { } dead)
                throw new InvalidOperationException($"{what}: a child process exited with {dead.ExitCode}");
            await Task.Delay(200);
        }
        _log.Enqueue($"{what} after {clock.Elapsed.TotalSeconds:0.0} s");
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Actors.Cli.Tests.Cluster;

public sealed class RunClusterFlagSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-cli-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void Cluster_with_explicit_simulation_mode_is_bad_input()
    {
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "sim.hocon");
        File.WriteAllText(file, "experiment { mode = simulation, steps = 5 }\ndata.dataset = synthetic\n");
        Assert.Equal(2, CliApp.Run(["run", file, "--quiet", "--cluster", "127.0.0.1:1", "--out", Path.Combine(_dir, "a")]));
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--cluster", "127.0.0.1:1", "--set", "experiment.mode=simulation", "--out", Path.Combine(_dir, "b")]));
        Assert.False(Directory.Exists(Path.Combine(_dir, "a")));
    }

    [Fact]
    public void Every_experiment_kind_runs_on_the_cluster()
    {
        foreach (var kind in Actors.Runtime.Running.ExperimentKinds.Names)
        {
            var spec = Actors.Runtime.Running.ExperimentKinds.Load(null, [$"experiment.kind={kind}", "data.dataset=synthetic", "optimizer.momentum=0"]);
            Assert.Null(Actors.Runtime.Cluster.ClusterKinds.Refusal(spec));
        }
        var scaffold = Actors.Runtime.Running.ExperimentKinds.Load(null, ["experiment.kind=federated", "federated.algorithm=scaffold", "optimizer.momentum=0"]);
        Assert.Contains("aggregator's node", Actors.Runtime.Cluster.ClusterKinds.NoFailover(scaffold), StringComparison.Ordinal); // its clients' state is lost with that node
    }

    [Fact]
    public void Cluster_address_must_be_host_port_or_akka_address()
    {
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--cluster", "not an address", "--set", "data.dataset=synthetic", "--out", Path.Combine(_dir, "c")]));
    }

    [Fact]
    public void Cluster_address_where_nothing_listens_fails_at_once_naming_it_and_leaves_no_run_directory()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        var clock = Stopwatch.StartNew();
        var run = Path.Combine(_dir, "d");
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--cluster", $"127.0.0.1:{port}", "--set", "data.dataset=synthetic", "--out", run]));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.False(Directory.Exists(run), "a run that never reached a cluster leaves nothing to refuse the next try");
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--cluster", $"127.0.0.1:{port}", "--connect-timeout", "0", "--out", run]));
    }

    [Fact]
    public void A_node_port_already_in_use_is_bad_input()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var e = Assert.Throws<Runtime.Experiments.UserInputException>(() => Runtime.Cluster.ClusterNode.Start(
            new Runtime.Cluster.ClusterConfigOptions { Roles = ["seed", "coordinator"], Host = "127.0.0.1", Port = port }));
        Assert.Contains($"port {port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("--port or ACTORS_PORT", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, CliApp.Run(["seed", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
    }
}

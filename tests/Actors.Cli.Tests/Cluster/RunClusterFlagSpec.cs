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
    public void Cluster_address_must_be_host_port_or_akka_address()
    {
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--cluster", "not an address", "--set", "data.dataset=synthetic", "--out", Path.Combine(_dir, "c")]));
    }
}

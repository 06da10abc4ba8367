using Actors.Learning.Models;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;
using Actors.Runtime.Tests.Running;

namespace Actors.Runtime.Tests.Federated;

/// <summary>`experiment.kind = federated` through the parameter-server actors.</summary>
public sealed class FederatedRunSpec
{
    private static readonly string[] Federated = ["experiment.kind=federated", "federated.clients=20", "federated.clients-per-round=5", "workers.honest=5",
        "federated.local-steps=3", "data.batch-size=16", "experiment.steps=12", "experiment.eval-every=6", "optimizer.lr=0.1"];

    /// <summary>Test accuracy at step 0 and at the end, from metrics.csv.</summary>
    private static (double First, double Last) Accuracy(string dir)
    {
        var rows = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return (rows[0], rows[^1]);
    }

    [Fact]
    public async Task FedAvg_with_one_local_step_and_everyone_sampled_is_the_parameter_server_with_the_same_shards()
    {
        // Same partition (4 shards from the same seed stream), whole-shard gradients: a round of FedAvg (K = 1, server-lr 1)
        // moves x by lr * mean_i grad f_i(x), exactly a sync round of the parameter server. Only float rounding differs.
        string[] common = ["workers.honest=4", "data.batch-size=0", "experiment.steps=10", "experiment.eval-every=5"];
        var (_, ps) = await RunHelper.Run(common);
        var (_, fl) = await RunHelper.Run([.. common, "experiment.kind=federated", "federated.clients=4", "federated.clients-per-round=4", "federated.local-steps=1"]);
        Assert.Equal(ps.D("final_test_loss"), fl.D("final_test_loss"), 4);
        Assert.Equal(ps.D("final_test_accuracy"), fl.D("final_test_accuracy"), 3);
        Assert.Equal(ps.D("bytes_uplink"), fl.D("bytes_uplink")); // the same model-sized messages
    }

    [Theory]
    [InlineData("fedavg")]
    [InlineData("fedavgm")]
    [InlineData("fedprox")]
    [InlineData("scaffold")]
    [InlineData("mime")]
    [InlineData("mimelite")]
    public async Task Every_algorithm_learns_and_writes_the_model_alone(string algorithm)
    {
        var (dir, s) = await RunHelper.Run([.. Federated, $"federated.algorithm={algorithm}", "data.partition=dirichlet", "data.dirichlet-alpha=0.5"]);
        Assert.Equal("federated", s["kind"]!.GetValue<string>());
        var (first, last) = Accuracy(dir);
        Assert.True(last > first + 0.1, $"{algorithm}: {first} -> {last}");
        Assert.Equal(784 * 10 + 10, s.D("parameters")); // the model, not the server state the broadcast carries
        var tensors = SafeTensors.Read(Path.Combine(dir, "model.safetensors"));
        Assert.Equal(784 * 10 + 10, tensors.Sum(t => t.Values.Length));
        // SCAFFOLD and MimeLite send two model-sized blocks per client, the others one.
        double perMessage = s.D("bytes_uplink") / s.D("updates_applied");
        int blocks = algorithm is "scaffold" or "mimelite" ? 2 : 1;
        Assert.InRange(perMessage, blocks * 4 * 7850, blocks * 4 * 7850 + 256);
    }

    [Fact]
    public async Task Byzantine_clients_send_attacked_deltas_that_a_robust_aggregator_survives()
    {
        string[] attacked = [.. Federated, "workers.honest=3", "workers.byzantine=2", "attack.type=gaussian", "attack.sigma=100", "data.partition=iid"];
        var (_, mean) = await RunHelper.Run([.. attacked, "aggregator.type=mean"]);
        var (_, clipped) = await RunHelper.Run([.. attacked, "aggregator.type=median"]);
        Assert.True(clipped.D("final_test_accuracy") > mean.D("final_test_accuracy") + 0.05,
            $"median {clipped.D("final_test_accuracy")} vs mean {mean.D("final_test_accuracy")}");
    }

    [Fact]
    public async Task Vanished_clients_lose_their_work_and_rounds_close_without_them()
    {
        var (dir, s) = await RunHelper.Run([.. Federated, "federated.dropout=0.4", "federated.algorithm=scaffold"]);
        long vanished = s["updates_dropped"]!["vanished"]!.GetValue<long>();
        // 12 rounds of 5 clients, each vanishing with probability 0.4 (at least one stays per round).
        Assert.InRange(vanished, 8, 40);
        Assert.Equal(12 * 5 - vanished, (long)s.D("updates_applied"));
        Assert.Equal(12, s.D("steps"));
        var (first, last) = Accuracy(dir);
        Assert.True(last > first + 0.1, $"{first} -> {last}");
        var (_, again) = await RunHelper.Run([.. Federated, "federated.dropout=0.4", "federated.algorithm=scaffold"]);
        Assert.Equal(s.D("final_test_loss"), again.D("final_test_loss")); // who vanishes is a function of the seed
    }

    [Fact]
    public async Task Buffered_timing_is_fedbuff_and_runs()
    {
        var (dir, s) = await RunHelper.Run([.. Federated, "timing.mode=buffered", "timing.buffer-size=2", "timing.stragglers.fraction=0.2", "timing.stragglers.slowdown=10"]);
        var (first, last) = Accuracy(dir);
        Assert.True(last > first + 0.1, $"{first} -> {last}");
        Assert.Equal(12, s.D("steps"));
        Assert.Equal(24, s.D("updates_applied"));
    }

    [Theory]
    [InlineData("workers.honest=4", "workers.honest + workers.byzantine = 4 must equal federated.clients-per-round = 5")]
    [InlineData("federated.algorithm=mime,timing.mode=async", "needs timing.mode = sync or deadline")]
    [InlineData("federated.dropout=0.2,timing.mode=async", "federated.dropout = 0.2 needs timing.mode = sync or deadline")]
    [InlineData("optimizer.momentum=0.9", "does not apply to federated clients")]
    [InlineData("federated.dropout=0.2,workers.honest=3,workers.byzantine=2,attack.type=alie,attack.omniscient=on", "federated.dropout > 0 with omniscient attackers")]
    [InlineData("federated.clients-per-round=30,workers.honest=30", "is more than federated.clients = 20")]
    [InlineData("federated.algorithm=fedsgd", "federated.algorithm")]
    public void Bad_federated_specs_name_the_key(string overrides, string message)
    {
        var e = Assert.ThrowsAny<UserInputException>(() => ExperimentKinds.Load(null, [.. RunHelper.Small, .. Federated, .. overrides.Split(',')]));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}

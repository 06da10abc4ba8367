using Actors.Learning.Data;
using Actors.Learning.Federated;
using Actors.Learning.Training;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Tests.Federated;

/// <summary>The federated rules against hand-computed references (ALGORITHMS.md section 3; issue 18's exactness checks).</summary>
public sealed class FederatedSpec : IDisposable
{
    private readonly DataBundle _data = SyntheticData.Generate(new SyntheticSpec(Train: 300, Test: 50, Features: 20, Classes: 3), 5);

    public void Dispose() => _data.Dispose();

    private (ClientPopulation Population, ClientTrainer[] Slots, FederatedServer Server, long D) Setup(FederatedSettings s, int batch)
    {
        var labels = _data.Train.Labels.data<long>().Select(l => (int)l).ToArray();
        var shards = Partitioner.Split(labels, "dirichlet", s.Clients, 0, new Random(3), 0.5);
        var population = new ClientPopulation(_data.Train, shards, s, "logreg", 9);
        var slots = Enumerable.Range(0, s.ClientsPerRound).Select(j => new ClientTrainer(population, j, batch, 0.5, 9)).ToArray();
        return (population, slots, new FederatedServer(s, population.Model.ParameterCount), population.Model.ParameterCount);
    }

    /// <summary>One server version: every slot's message, their mean, the server's step; returns whether it was a whole round.</summary>
    private static bool Version(torch.Tensor z, ClientTrainer[] slots, FederatedServer server)
    {
        using var scope = torch.NewDisposeScope();
        var mean = torch.stack([.. slots.Select(t => t.ComputeUpdate(z))]).mean([0]);
        return server.Step(z, mean, 0.5, 1.0);
    }

    /// <summary>mean_i grad f_i(x) over every client's whole shard.</summary>
    private torch.Tensor FullGradientMean(ClientPopulation p, torch.Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var sum = torch.zeros(p.Model.ParameterCount);
        for (int c = 0; c < p.Clients; c++)
        {
            var data = p.Data(c);
            using var idx = torch.arange(0, data.Count, dtype: torch.int64);
            var (bx, by) = data.Rows(idx);
            sum.AddScaled_(p.Model.Gradient(x, bx, by).Gradient, 1.0 / p.Clients);
        }
        return sum.MoveToOuterDisposeScope();
    }

    [Fact]
    public void FedAvg_with_one_local_step_and_full_participation_is_sync_mean_sgd_step_for_step()
    {
        var s = new FederatedSettings(FederatedAlgorithm.Fedavg, Clients: 6, ClientsPerRound: 6, LocalSteps: 1);
        var (population, slots, server, d) = Setup(s, batch: 0);
        using var _ = population;
        using var z = torch.randn(d).MulBy(0.1);
        using var reference = z.clone();
        for (int round = 0; round < 4; round++)
        {
            Assert.True(Version(z, slots, server));
            using var g = FullGradientMean(population, reference);
            reference.AddScaled_(g, -0.5);
            Assert.True(z.sub(reference).abs().max().item<float>() < 1e-6f, $"round {round}");
        }
        // Every slot hosted a different client each round: full participation is a permutation of the population.
        Assert.Equal(6, slots.Select(t => t.LastClient).Distinct().Count());
    }

    [Fact]
    public void Mime_with_one_local_step_is_the_base_optimizer_on_the_full_batch_gradient()
    {
        var s = new FederatedSettings(FederatedAlgorithm.Mime, Clients: 5, ClientsPerRound: 5, LocalSteps: 1, ServerMomentum: 0.8, BaseOptimizer: BaseOptimizer.Momentum);
        var (population, slots, server, d) = Setup(s, batch: 0);
        using var _ = population;
        using var x0 = torch.randn(d).MulBy(0.1);
        using var z = torch.cat([x0, torch.zeros(2 * d)], 0); // [x | momentum | correction]
        using var x = x0.clone();
        using var m = torch.zeros(d);
        for (int round = 0; round < 4; round++)
        {
            Assert.False(Version(z, slots, server)); // phase 1: the correction c
            Assert.True(Version(z, slots, server));  // phase 2: the local steps
            using var c = FullGradientMean(population, x);
            m.MulBy_(0.8).AddScaled_(c, 0.2); // momentum as an EMA: m = beta m + (1 - beta) c, x -= lr m
            x.AddScaled_(m, -0.5);
            using var zx = z.narrow(0, 0, d);
            using var zm = z.narrow(0, d, d);
            Assert.True(zx.sub(x).abs().max().item<float>() < 1e-6f, $"round {round}: x");
            Assert.True(zm.sub(m).abs().max().item<float>() < 1e-6f, $"round {round}: the state advances with c only");
        }
    }

    [Fact]
    public void Mimelite_with_one_local_step_and_sgd_is_fedavg()
    {
        var lite = new FederatedSettings(FederatedAlgorithm.Mimelite, Clients: 4, ClientsPerRound: 4, LocalSteps: 1, BaseOptimizer: BaseOptimizer.Sgd);
        var plain = lite with { Algorithm = FederatedAlgorithm.Fedavg };
        var (p1, slots1, server1, d) = Setup(lite, batch: 0);
        var (p2, slots2, server2, _) = Setup(plain, batch: 0);
        using var a = p1;
        using var b = p2;
        using var z1 = torch.zeros(d);
        using var z2 = torch.zeros(d);
        for (int round = 0; round < 3; round++)
        {
            Version(z1, slots1, server1);
            Version(z2, slots2, server2);
        }
        Assert.True(z1.sub(z2).abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void Scaffold_server_control_is_the_mean_of_all_client_controls_under_partial_participation()
    {
        var s = new FederatedSettings(FederatedAlgorithm.Scaffold, Clients: 8, ClientsPerRound: 3, LocalSteps: 4);
        var (population, slots, server, d) = Setup(s, batch: 10);
        using var _ = population;
        using var z = torch.zeros(2 * d); // [x | c]
        for (int round = 0; round < 6; round++)
        {
            Assert.True(Version(z, slots, server));
            using var sum = population.ControlSum(d);
            using var c = z.narrow(0, d, d);
            // c += (|S|/N) mean_S (c_i+ - c_i) keeps c = (1/N) sum_i c_i (clients never sampled count as 0).
            Assert.True(c.sub(sum.MulBy(1.0 / s.Clients)).abs().max().item<float>() < 1e-6f, $"round {round}");
        }
        Assert.True(z.narrow(0, d, d).abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Scaffold_client_control_is_option_two_of_the_paper()
    {
        // One client, one round, K steps: c_1+ = c_1 - c + (x - y) / (K lr) with c_1 = c = 0, so the control change is the
        // average of the K local gradients along the path, and the delta is lr K times it.
        var s = new FederatedSettings(FederatedAlgorithm.Scaffold, Clients: 1, ClientsPerRound: 1, LocalSteps: 3);
        var (population, slots, _, d) = Setup(s, batch: 0);
        using var __ = population;
        using var z = torch.zeros(2 * d);
        using var message = slots[0].ComputeUpdate(z);
        using var delta = message.narrow(0, 0, d);
        using var change = message.narrow(0, d, d);
        Assert.True(change.MulBy(3 * 0.5).sub(delta).abs().max().item<float>() < 1e-6f);
        using var stored = population.Control(0, d);
        Assert.True(stored.sub(change).abs().max().item<float>() < 1e-7f);
    }

    [Fact]
    public void Cohorts_are_a_function_of_the_seed_and_the_round()
    {
        var s = new FederatedSettings(Clients: 50, ClientsPerRound: 10);
        var (p1, _, _, _) = Setup(s, 0);
        var (p2, _, _, _) = Setup(s, 0);
        using var a = p1;
        using var b = p2;
        Assert.Equal(p1.Cohort(7), p2.Cohort(7));
        Assert.Equal(10, p1.Cohort(7).Distinct().Count());
        Assert.NotEqual(p1.Cohort(7), p1.Cohort(8));
    }
}

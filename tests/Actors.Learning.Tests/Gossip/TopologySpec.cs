using Actors.Learning.Gossip;
using TorchSharp;

namespace Actors.Learning.Tests.Gossip;

public class TopologySpec
{
    [Fact]
    public void Ring_of_8_with_MH_weights_one_third_has_spectral_gap_0_195()
    {
        var ring = StaticTopology.Ring(8);
        var w = ring.At(0);
        Assert.Equal(1.0 / 3, w[0, 1], 15);
        Assert.Equal(1.0 / 3, w[0, 7], 15);
        Assert.Equal(1.0 / 3, w[0, 0], 15);
        double expected = 1 - (1.0 / 3 + 2.0 / 3 * Math.Cos(Math.PI / 4));
        Assert.Equal(expected, SpectralGap.Of(ring), 10);
        Assert.Equal(0.195, SpectralGap.Of(ring), 3);
    }

    [Fact]
    public void Known_spectral_gaps()
    {
        Assert.Equal(1.0, SpectralGap.Of(StaticTopology.Complete(8)), 10);
        // Star with MH: hub weight 1/n to each leaf; W = I - (1/n) L_star, eigenvalues 1, 1 - 1/n (x n-2), 1 - n/n = 0.
        Assert.Equal(1.0 / 8, SpectralGap.Of(StaticTopology.Star(8)), 10);
        // One-peer exponential on 8 nodes: three steps give exactly 11^T / 8, so the per-step gap is 1.
        Assert.Equal(1.0, SpectralGap.Of(new OnePeerExponentialTopology(8)), 10);
        Assert.True(SpectralGap.Of(StaticTopology.Exponential(16)) > SpectralGap.Of(StaticTopology.Torus(16)));
        Assert.True(SpectralGap.Of(StaticTopology.Torus(16)) > SpectralGap.Of(StaticTopology.Ring(16)));
    }

    public static TheoryData<string> AllTypes => new(TopologyFactory.Types);

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Mixing_matrices_are_doubly_stochastic_and_nonnegative_with_and_without_churn(string type)
    {
        foreach (int n in new[] { 2, 5, 8, 12 })
        {
            var plain = TopologyFactory.Create(new TopologySettings(type, n, RedrawEvery: 3, EdgeProbability: 0.3), seed: 7);
            var churn = TopologyFactory.Create(new TopologySettings(type, n, RedrawEvery: 3, EdgeProbability: 0.3, new ChurnSchedule(4, 3, 0.25)), seed: 7);
            foreach (var topology in new[] { plain, churn })
                for (long t = 0; t < 12; t++)
                {
                    var w = topology.At(t);
                    Assert.True(w.StochasticityError() < 1e-12, $"{type} n={n} step {t}: rows/columns do not sum to 1");
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < n; j++)
                            Assert.True(w[i, j] >= 0, $"{type} n={n} step {t}: W[{i},{j}] = {w[i, j]}");
                    if (!topology.IsDirected) Assert.True(w.IsSymmetric, $"{type} n={n} step {t}: MH weights must be symmetric");
                }
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void One_peer_exponential_averages_exactly_in_log2_n_steps(int n)
    {
        var topology = new OnePeerExponentialTopology(n);
        int steps = (int)Math.Log2(n);
        Assert.Equal(steps, topology.Period);
        var product = topology.At(0);
        for (int t = 1; t < steps; t++) product = MixingMatrix.Multiply(topology.At(t), product);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(1.0 / n, product[i, j]);

        // The same through D-SGD nodes (no gradient): every node holds the exact average after log2(n) steps.
        var nodes = GossipFixtures.SpreadNodes(new GossipSettings("dsgd", 0), n, 5);
        try
        {
            using var average = GossipFixtures.Average(nodes);
            for (int t = 0; t < steps; t++) GossipFixtures.GossipStep(nodes, topology, t);
            foreach (var node in nodes)
                Assert.True(node.Model.allclose(average, rtol: 0, atol: 1e-14), $"node {node.Id} is not at the average");
        }
        finally
        {
            foreach (var node in nodes) node.Dispose();
        }
    }

    [Fact]
    public void Random_topology_is_connected_seeded_and_redrawn_every_k_steps()
    {
        var a = new RandomTopology(10, 0.2, redrawEvery: 5, seed: 11);
        var b = new RandomTopology(10, 0.2, redrawEvery: 5, seed: 11);
        for (long epoch = 0; epoch < 6; epoch++)
        {
            Assert.True(a.GraphOf(epoch).IsConnected);
            Assert.Equal(a.At(epoch * 5).ToArray(), b.At(epoch * 5 + 4).ToArray());
        }
        Assert.NotEqual(a.At(0).ToArray(), a.At(5).ToArray());
        Assert.NotEqual(a.At(0).ToArray(), new RandomTopology(10, 0.2, 5, seed: 12).At(0).ToArray());
    }

    [Fact]
    public void Churn_takes_nodes_down_without_edges_and_brings_them_back()
    {
        var inner = StaticTopology.Ring(8);
        var churn = new ChurnTopology(inner, new ChurnSchedule(LeaveEvery: 10, DownFor: 5, Fraction: 0.125), seed: 1);
        Assert.Equal(inner.At(0).ToArray(), churn.At(9).ToArray());
        var w = churn.At(10);
        var down = Enumerable.Range(0, 8).Where(i => !w.IsUp(i)).ToArray();
        Assert.Equal(churn.Leavers(1), down);
        int d = Assert.Single(down);
        Assert.Empty(w.InNeighbors(d));
        Assert.Empty(w.OutNeighbors(d));
        Assert.Equal(1.0, w[d, d]);
        Assert.DoesNotContain(d, Enumerable.Range(0, 8).SelectMany(i => w.InNeighbors(i)));
        Assert.True(w.StochasticityError() < 1e-12);
        Assert.Equal(w.ToArray(), churn.At(14).ToArray());
        Assert.Equal(inner.At(0).ToArray(), churn.At(15).ToArray());
    }

    [Fact]
    public void Factory_errors_name_the_key_the_value_and_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => TopologyFactory.Create(new TopologySettings("hypercube", 8), 1));
        Assert.Contains("topology.type", e.Message);
        Assert.Contains("hypercube", e.Message);
        Assert.Contains("one-peer-exponential", e.Message);
        e = Assert.Throws<ArgumentException>(() => TopologyFactory.Create(new TopologySettings("random", 8, EdgeProbability: 1.5), 1));
        Assert.Contains("topology.edge-probability", e.Message);
        e = Assert.Throws<ArgumentException>(() => TopologyFactory.Create(new TopologySettings("ring", 8, Churn: new ChurnSchedule(10, 5, 1.0)), 1));
        Assert.Contains("topology.churn.fraction", e.Message);
        using var x0 = torch.zeros(3);
        e = Assert.Throws<ArgumentException>(() => GossipAlgorithms.Create(new GossipSettings("gossipy", 0.1), 0, x0));
        Assert.Contains("gossip.algorithm", e.Message);
        Assert.Contains("powergossip", e.Message);
    }
}

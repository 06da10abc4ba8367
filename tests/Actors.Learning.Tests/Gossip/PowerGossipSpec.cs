using Actors.Learning.Gossip;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Tests.Gossip;

/// <summary>ALGORITHMS.md section 5.</summary>
public class PowerGossipSpec
{
    [Fact]
    public void Each_powergossip_step_preserves_the_network_average()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var ring = StaticTopology.Ring(8);
        var settings = new GossipSettings("powergossip", 0.3, Gamma: 1, Rank: 1);
        var nodes = Enumerable.Range(0, 8).Select(i =>
        {
            using var x0 = problem.InitialModel();
            return GossipAlgorithms.Create(settings, i, x0, layout: problem.Layout);
        }).ToArray();
        try
        {
            for (long t = 0; t < 40; t++)
            {
                var outboxes = nodes.Select(n =>
                {
                    using var g = problem.LocalGradient(n.Id, n.Model, t);
                    return n.Send(t, g, ring.At(t).Row(n.Id));
                }).ToList();
                using var before = GossipFixtures.Average(nodes);
                foreach (var m in outboxes.SelectMany(o => o.Messages)) nodes[m.To].Receive(m);
                foreach (var n in nodes) n.Mix(t);
                foreach (var o in outboxes) o.Dispose();
                using var after = GossipFixtures.Average(nodes);
                double drift = after.sub(before).abs().max().item<double>();
                Assert.True(drift < 1e-14, $"step {t}: the average moved by {drift:E2}");
            }
            Assert.All(nodes, n => Assert.Equal(40, ((PowerGossip)n).ExchangesWith((n.Id + 1) % 8)));
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Fact]
    public void Rank1_powergossip_reaches_consensus_and_sends_a_fraction_of_the_bytes()
    {
        // Pure gossip on 8 models of a 16 x 12 matrix plus a 16-vector: the warm-started power iteration contracts the differences.
        var layout = new ParameterLayout([("w", [16, 12], 0, 192), ("b", [16], 192, 16)]);
        var ring = StaticTopology.Ring(8);
        var nodes = GossipFixtures.SpreadNodes(new GossipSettings("powergossip", 0, Gamma: 1, Rank: 1), 8, 208, layout: layout);
        try
        {
            using var average = GossipFixtures.Average(nodes);
            double start = GossipFixtures.Consensus(nodes);
            long bytes = 0;
            for (long t = 0; t < 300; t++)
            {
                var w = ring.At(t);
                var outboxes = nodes.Select(n =>
                {
                    using var g = torch.zeros_like(n.Model);
                    return n.Send(t, g, w.Row(n.Id));
                }).ToList();
                bytes += outboxes.Sum(o => o.WireBytes);
                foreach (var m in outboxes.SelectMany(o => o.Messages)) nodes[m.To].Receive(m);
                foreach (var n in nodes) n.Mix(t);
                foreach (var o in outboxes) o.Dispose();
            }
            double end = GossipFixtures.Consensus(nodes);
            Assert.True(end < 1e-4 * start, $"consensus distance {start:E2} -> {end:E2}");
            using var after = GossipFixtures.Average(nodes);
            Assert.True(after.allclose(average, rtol: 0, atol: 1e-12));
            long dense = 300L * 16 * 208 * 8;
            Assert.True(bytes * 5 < dense, $"{bytes} bytes vs {dense} for dense gossip");
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Theory]
    [InlineData("dsgd")]
    [InlineData("powergossip")]
    public void Asynchronous_pairwise_exchanges_preserve_the_sum_and_mix(string algorithm)
    {
        var layout = new ParameterLayout([("w", [4, 5], 0, 20)]);
        var ring = StaticTopology.Ring(6);
        var nodes = GossipFixtures.SpreadNodes(new GossipSettings(algorithm, 0), 6, 20, layout: layout);
        try
        {
            using var average = GossipFixtures.Average(nodes);
            double start = GossipFixtures.Consensus(nodes);
            var rng = new Random(5);
            for (int tick = 0; tick < 600; tick++)
            {
                int i = rng.Next(6);
                var peers = ring.Neighbors(i, tick);
                int j = peers[rng.Next(peers.Count)];
                using var request = ((IPairwiseGossip)nodes[i]).Initiate(j, tick);
                using var reply = ((IPairwiseGossip)nodes[j]).Respond(request.Messages[0]);
                ((IPairwiseGossip)nodes[i]).Complete(reply.Messages[0]);
                using var now = GossipFixtures.Average(nodes);
                Assert.True(now.allclose(average, rtol: 0, atol: 1e-13), $"tick {tick}: average moved");
            }
            Assert.True(GossipFixtures.Consensus(nodes) < 1e-3 * start);
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Fact]
    public void Asynchronous_driver_runs_dsgd_and_powergossip_on_the_convex_problem()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        foreach (var algorithm in new[] { "dsgd", "powergossip" })
        {
            using var sim = new GossipSimulation(problem, StaticTopology.Ring(8), new GossipSettings(algorithm, 0.2), options: new GossipSimulationOptions(Asynchronous: true));
            var records = sim.Run(60, 20);
            Assert.True(records[^1].Suboptimality < 0.1 * records[0].Suboptimality || records[^1].Suboptimality < 1e-3, $"{algorithm}: {records[0].Suboptimality:E2} -> {records[^1].Suboptimality:E2}");
        }
    }

    [Fact]
    public void Powergossip_edges_agree_again_after_lost_messages()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var ring = StaticTopology.Ring(8);
        using var sim = new GossipSimulation(problem, ring, new GossipSettings("powergossip", 0.3), options: new GossipSimulationOptions(DropProbability: 0.1, DuplicateProbability: 0.1));
        sim.Run(40);
        sim.Options = new GossipSimulationOptions();
        sim.Run(2);
        var summary = sim.Summary();
        Assert.True(summary.EdgeResets > 0 && summary.Duplicates > 0);
        foreach (var node in sim.Nodes.Cast<PowerGossip>())
            foreach (int j in ring.Neighbors(node.Id, 0))
                Assert.Equal(node.ExchangesWith(j), ((PowerGossip)sim.Nodes[j]).ExchangesWith(node.Id));
        Assert.True(double.IsFinite(summary.FinalSuboptimality) && summary.FinalSuboptimality < 1e-2);
        Assert.Equal(0.195, summary.SpectralGap, 3);
    }

    [Theory]
    [InlineData("powergossip")]
    [InlineData("lead")]
    public void Powergossip_and_lead_refuse_a_directed_topology(string algorithm)
    {
        var nodes = GossipFixtures.SpreadNodes(new GossipSettings(algorithm, 0.1), 8, 6, _ => new TestRandK(0.5, true));
        try
        {
            using var g = torch.zeros(6, torch.float64);
            var e = Assert.Throws<InvalidOperationException>(() => nodes[0].Send(0, g, new OnePeerExponentialTopology(8).At(0).Row(0)));
            Assert.Contains("undirected", e.Message);
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }
}

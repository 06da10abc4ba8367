using Actors.Learning.Gossip;
using Actors.Learning.Problems;
using TorchSharp;
using Xunit.Abstractions;

namespace Actors.Learning.Tests.Gossip;

/// <summary>ALGORITHMS.md section 6: CHOCO's public copies stay exact under churn, loss, duplication and reordering.</summary>
public class ChocoSpec(ITestOutputHelper output)
{
    [Fact]
    public void A_node_leaving_and_rejoining_neither_crashes_nor_corrupts_the_copies()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var churn = new ChurnTopology(StaticTopology.Ring(8), new ChurnSchedule(LeaveEvery: 15, DownFor: 6, Fraction: 0.25), seed: 2);
        using var sim = new GossipSimulation(problem, churn, new GossipSettings("choco", 0.3, Gamma: 0.3), _ => new TestRandK(0.3, unbiased: false));
        double start = sim.Measure().Suboptimality;
        int rejoins = 0;
        for (int t = 0; t < 80; t++)
        {
            sim.RunStep();
            var w = churn.At(t);
            if (t > 0 && Enumerable.Range(0, 8).Any(i => w.IsUp(i) && !churn.At(t - 1).IsUp(i))) rejoins++;
            AssertCopiesExact(sim, w, $"step {t}");
        }
        var last = sim.Measure();
        output.WriteLine($"CHOCO under churn: {rejoins} rejoin steps, suboptimality {start:E2} -> {last.Suboptimality:E2}, resyncs {sim.Nodes.Sum(n => n.Counters.ResyncsApplied)}");
        Assert.True(rejoins >= 4);
        Assert.True(sim.Nodes.Sum(n => n.Counters.ResyncsApplied) > 0);
        Assert.True(double.IsFinite(last.Suboptimality) && last.Suboptimality < 1e-2 * start);
    }

    [Theory]
    [InlineData("choco")]
    [InlineData("lead")]
    public void Copies_recover_from_lost_and_duplicated_messages(string algorithm)
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var ring = StaticTopology.Ring(8);
        bool unbiased = algorithm == "lead";
        using var sim = new GossipSimulation(problem, ring, new GossipSettings(algorithm, 0.3, Gamma: algorithm == "lead" ? 0.1 : 0.3, Alpha: 0.3),
            _ => new TestRandK(0.3, unbiased), new GossipSimulationOptions(DropProbability: 0.1, DuplicateProbability: 0.1));
        sim.Run(40);
        Assert.True(sim.MessagesDropped > 0);
        Assert.True(sim.Nodes.Sum(n => n.Counters.Duplicates) > 0, "duplicates must be recognised");
        Assert.True(sim.Nodes.Sum(n => n.Counters.BrokenCopies) > 0, "losses must be detected as gaps");
        sim.Options = new GossipSimulationOptions();
        sim.Run(4);
        AssertCopiesExact(sim, ring.At(0), "after 4 clean steps");
        Assert.True(sim.Nodes.Sum(n => n.Counters.ResyncsApplied) > 0);
        Assert.True(double.IsFinite(sim.Measure().Suboptimality));
    }

    [Fact]
    public void Periodic_resync_sends_full_precision_and_keeps_copies_exact()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var ring = StaticTopology.Ring(8);
        using var plain = new GossipSimulation(problem, ring, new GossipSettings("choco", 0.3, Gamma: 0.3), _ => new TestRandK(0.3, false));
        using var resync = new GossipSimulation(problem, ring, new GossipSettings("choco", 0.3, Gamma: 0.3, ResyncEvery: 10), _ => new TestRandK(0.3, false));
        var a = plain.Run(30, 30)[^1];
        var b = resync.Run(30, 30)[^1];
        // Same trajectory (a resync carries what the copies already hold), more bytes: 2 resyncs x 16 messages x 20 doubles.
        Assert.Equal(a.Suboptimality, b.Suboptimality, 12);
        Assert.Equal(a.BytesSent + 2 * 16 * 20 * 8, b.BytesSent);
        AssertCopiesExact(resync, ring.At(0), "with periodic resync");
    }

    [Fact]
    public void Messages_arriving_out_of_order_or_twice_give_the_synchronous_result()
    {
        var ring = StaticTopology.Ring(4);
        using var sub = LogisticRegressionProblem.Synthetic(new ConvexSyntheticSpec(20, 3, 2, 0.5), 4, 0.1, torch.float64, 0, 9);
        using var reference = new GossipSimulation(sub, ring, new GossipSettings("choco", 0.2, Gamma: 0.3), _ => new TestRandK(0.5, false));
        reference.Run(3);

        // By hand: every message of a step delivered in reverse order, then all of them again.
        var nodes = Enumerable.Range(0, 4).Select(i =>
        {
            using var x0 = sub.InitialModel();
            return GossipAlgorithms.Create(new GossipSettings("choco", 0.2, Gamma: 0.3), i, x0, new TestRandK(0.5, false), sub.Layout);
        }).ToArray();
        try
        {
            for (long t = 0; t < 3; t++)
            {
                var outboxes = nodes.Select(n =>
                {
                    using var g = sub.LocalGradient(n.Id, n.Model, t);
                    return n.Send(t, g, ring.At(t).Row(n.Id));
                }).ToList();
                foreach (var m in outboxes.SelectMany(o => o.Messages).Reverse()) nodes[m.To].Receive(m);
                foreach (var m in outboxes.SelectMany(o => o.Messages)) nodes[m.To].Receive(m);
                foreach (var n in nodes) n.Mix(t);
                foreach (var o in outboxes) o.Dispose();
            }
            for (int i = 0; i < 4; i++) Assert.True(GossipFixtures.Same(nodes[i].Model, reference.Nodes[i].Model), $"node {i} differs");
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    /// <summary>For every live edge j -> i: i's copy of j's public vector equals j's own, bit for bit, at the same version.</summary>
    private static void AssertCopiesExact(GossipSimulation sim, MixingMatrix w, string when)
    {
        foreach (var node in sim.Nodes.Cast<ReplicatedCopyNode>())
        {
            if (!w.IsUp(node.Id)) continue;
            foreach (int j in w.InNeighbors(node.Id))
            {
                var owner = (ReplicatedCopyNode)sim.Nodes[j];
                var copy = node.CopyOf(j);
                Assert.True(copy is not null, $"{when}: node {node.Id} has no usable copy of {j}");
                Assert.Equal(owner.PublicVersion, node.CopyVersionOf(j));
                Assert.True(GossipFixtures.Same(copy!, owner.PublicVector), $"{when}: node {node.Id}'s copy of {j} differs from {j}'s own");
            }
        }
    }
}

using Actors.Learning.Gossip;

namespace Actors.Learning.Tests.Gossip;

public sealed class LostNodesTopologySpec
{
    [Fact]
    public void Lost_nodes_are_down_for_good_and_the_live_ring_gets_metropolis_hastings_weights()
    {
        var topology = new LostNodesTopology(StaticTopology.Ring(6));
        var before = topology.At(3);
        Assert.Equal(StaticTopology.Ring(6).At(3).ToArray(), before.ToArray()); // nothing lost: the inner W unchanged

        Assert.True(topology.Lose([1]));
        Assert.False(topology.Lose([1])); // already lost
        foreach (long step in new long[] { 0, 3, 1000 })
        {
            var w = topology.At(step);
            Assert.False(w.IsUp(1));
            Assert.Equal(1.0, w[1, 1]);
            // Node 0 now has one live neighbour (5) of degree 2: W_05 = 1 / (1 + max(1, 2)) = 1/3, W_00 = 2/3.
            Assert.Equal([5], w.InNeighbors(0));
            Assert.Equal(1.0 / 3, w[0, 5], 12);
            Assert.Equal(2.0 / 3, w[0, 0], 12);
            // Node 3 keeps both neighbours (2 has degree 1 now, 4 has 2): 1/3 each.
            Assert.Equal([2, 4], w.InNeighbors(3));
            Assert.True(w.IsSymmetric);
            Assert.True(w.StochasticityError() < 1e-12);
        }
        Assert.Equal([1], topology.Lost);
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.Lose([6]));
    }
}

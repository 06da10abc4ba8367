using Actors.Learning.Gossip;
using Actors.Learning.Problems;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Tests.Gossip;

internal static class GossipFixtures
{
    /// <summary>Small heterogeneous binary logistic regression: 8 nodes x 50 samples, 9 features (+1) x 2 classes = 20 parameters.</summary>
    public static LogisticRegressionProblem SmallLogistic(torch.ScalarType dtype, int nodes = 8, int batchSize = 0)
    {
        // Tiny tensors: intra-op threads only cost (and spin) on a shared 2-core machine.
        TorchSetup.Initialize(1);
        return LogisticRegressionProblem.Synthetic(new ConvexSyntheticSpec(SamplesPerNode: 50, Features: 9, Classes: 2, Heterogeneity: 0.5), nodes, l2: 0.1, dtype, batchSize, seed: 3);
    }

    /// <summary>Nodes started from different random models (to watch pure consensus, lr = 0).</summary>
    public static GossipNode[] SpreadNodes(GossipSettings settings, int n, long d, Func<int, Actors.Learning.Compression.ICompressor>? compressor = null, Actors.Learning.Models.ParameterLayout? layout = null)
    {
        TorchSetup.Initialize(1);
        using var gen = new torch.Generator(42);
        return Enumerable.Range(0, n).Select(i =>
        {
            using var x = torch.randn(d, torch.float64, generator: gen);
            return GossipAlgorithms.Create(settings, i, x, compressor?.Invoke(i), layout);
        }).ToArray();
    }

    /// <summary>Same shape and the same values everywhere.</summary>
    public static bool Same(torch.Tensor a, torch.Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    public static torch.Tensor Average(IEnumerable<GossipNode> nodes)
    {
        var list = nodes.ToList();
        var sum = torch.zeros_like(list[0].Model);
        foreach (var n in list) sum.add_(n.Model);
        return sum.div_(list.Count);
    }

    public static double Consensus(IReadOnlyList<GossipNode> nodes)
    {
        using var scope = torch.NewDisposeScope();
        var avg = Average(nodes);
        return nodes.Sum(n => n.Model.sub(avg).square().sum().item<double>()) / nodes.Count;
    }

    /// <summary>One synchronous step with zero gradients (pure gossip), by hand, as a PeerActor would drive it.</summary>
    public static void GossipStep(IReadOnlyList<GossipNode> nodes, ITopology topology, long step)
    {
        var w = topology.At(step);
        var outboxes = new List<GossipOutbox>();
        foreach (var n in nodes.Where(n => w.IsUp(n.Id)))
        {
            using var g = torch.zeros_like(n.Model);
            outboxes.Add(n.Send(step, g, w.Row(n.Id)));
        }
        foreach (var m in outboxes.SelectMany(o => o.Messages))
            if (w.IsUp(m.To)) nodes[m.To].Receive(m);
        foreach (var n in nodes.Where(n => w.IsUp(n.Id))) n.Mix(step);
        foreach (var o in outboxes) o.Dispose();
    }
}

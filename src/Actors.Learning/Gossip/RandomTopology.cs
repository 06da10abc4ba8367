using Actors.Learning.Util;

namespace Actors.Learning.Gossip;

/// <summary>
/// Erdős–Rényi G(n, p) redrawn every <c>redraw-every</c> steps from (seed, epoch), with Metropolis-Hastings weights.
/// Always connected: up to 100 draws are tried; if none is connected, the components of the last draw are chained
/// (first node of each to the first node of the next), so the graph is still a pure function of (seed, epoch).
/// </summary>
public sealed class RandomTopology : ITopology
{
    private const int MaxDraws = 100;
    private readonly double _p;
    private readonly long _seed;
    private readonly MixingMatrixCache _cache = new();

    public RandomTopology(int n, double edgeProbability, int redrawEvery, long seed)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "topology.nodes must be positive");
        if (edgeProbability is < 0 or > 1 || double.IsNaN(edgeProbability))
            throw new ArgumentOutOfRangeException(nameof(edgeProbability), edgeProbability, "topology.edge-probability must be in [0, 1]");
        if (redrawEvery <= 0) throw new ArgumentOutOfRangeException(nameof(redrawEvery), redrawEvery, "topology.redraw-every must be positive");
        Nodes = n;
        _p = edgeProbability;
        RedrawEvery = redrawEvery;
        _seed = seed;
    }

    public string Name => "random";
    public int Nodes { get; }
    public int RedrawEvery { get; }
    public bool IsDirected => false;
    public int Period => RedrawEvery;

    public MixingMatrix At(long step) => _cache.GetOrAdd(step / RedrawEvery, epoch => MetropolisHastingsWeights.For(GraphOf(epoch)));

    public Graph GraphOf(long epoch)
    {
        var rng = Seeds.Random(_seed, "topology-random", epoch);
        Graph g = Draw(rng);
        for (int attempt = 1; attempt < MaxDraws && !g.IsConnected; attempt++) g = Draw(rng);
        var comps = g.Components();
        for (int c = 1; c < comps.Count; c++) g.AddEdge(comps[c - 1][0], comps[c][0]);
        return g;
    }

    private Graph Draw(Random rng)
    {
        var g = new Graph(Nodes);
        for (int i = 0; i < Nodes; i++)
            for (int j = i + 1; j < Nodes; j++)
                if (rng.NextDouble() < _p) g.AddEdge(i, j);
        return g;
    }
}

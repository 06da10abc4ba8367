namespace Actors.Learning.Gossip;

/// <summary>
/// Metropolis-Hastings weights: W_ij = 1 / (1 + max(deg_i, deg_j)) on edges, W_ii = 1 - sum_j W_ij.
/// Symmetric and doubly stochastic for any undirected graph; an isolated (or down) node gets W_ii = 1.
/// </summary>
public static class MetropolisHastingsWeights
{
    public static MixingMatrix For(Graph graph, bool[]? up = null)
    {
        int n = graph.Nodes;
        var w = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            double off = 0;
            // Summed in ascending j so that W_ii is the same on every machine.
            foreach (int j in graph.NeighborsOf(i))
            {
                double wij = 1.0 / (1 + Math.Max(graph.Degree(i), graph.Degree(j)));
                w[i * n + j] = wij;
                off += wij;
            }
            w[i * n + i] = 1 - off;
        }
        return new MixingMatrix(n, w, up);
    }

    /// <summary>
    /// <paramref name="w"/> with only the nodes in <paramref name="up"/> live: the undirected support of W restricted to them,
    /// with fresh weights (a node that is not up has no edges and W_ii = 1).
    /// </summary>
    public static MixingMatrix Restricted(MixingMatrix w, bool[] up)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(up);
        int n = w.Nodes;
        var g = new Graph(n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && (w[i, j] > 0 || w[j, i] > 0)) g.AddEdge(i, j);
        return For(g.Restrict(up), up);
    }
}

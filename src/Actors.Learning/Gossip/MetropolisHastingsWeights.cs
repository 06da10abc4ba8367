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
}

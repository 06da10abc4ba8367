namespace Actors.Learning.Gossip;

/// <summary>A fixed undirected graph with Metropolis-Hastings weights: complete, ring, torus, star, exponential.</summary>
public sealed class StaticTopology : ITopology
{
    private readonly MixingMatrix _matrix;

    public StaticTopology(string name, Graph graph)
    {
        Name = name;
        Graph = graph;
        _matrix = MetropolisHastingsWeights.For(graph);
    }

    public string Name { get; }
    public Graph Graph { get; }
    public int Nodes => Graph.Nodes;
    public bool IsDirected => false;
    public int Period => 1;

    public MixingMatrix At(long step) => _matrix;

    public static StaticTopology Complete(int n)
    {
        var g = new Graph(n);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) g.AddEdge(i, j);
        return new StaticTopology("complete", g);
    }

    public static StaticTopology Ring(int n)
    {
        var g = new Graph(n);
        for (int i = 0; i < n; i++) g.AddEdge(i, (i + 1) % n);
        return new StaticTopology("ring", g);
    }

    /// <summary>A rows x cols grid with wrap-around; rows is the largest divisor of n not above sqrt(n) (a prime n gives a ring).</summary>
    public static StaticTopology Torus(int n)
    {
        int rows = 1;
        for (int r = 1; r * r <= n; r++)
            if (n % r == 0) rows = r;
        int cols = n / rows;
        var g = new Graph(n);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                g.AddEdge(i, r * cols + (c + 1) % cols);
                g.AddEdge(i, ((r + 1) % rows) * cols + c);
            }
        return new StaticTopology("torus", g);
    }

    /// <summary>Node 0 is the hub.</summary>
    public static StaticTopology Star(int n)
    {
        var g = new Graph(n);
        for (int i = 1; i < n; i++) g.AddEdge(0, i);
        return new StaticTopology("star", g);
    }

    /// <summary>
    /// The static exponential graph made undirected: i is linked to i +- 2^k (mod n) for 2^k &lt; n
    /// (Ying et al. 2021 use the directed i -> i + 2^k; the undirected form keeps W symmetric for CHOCO and PowerGossip).
    /// </summary>
    public static StaticTopology Exponential(int n)
    {
        var g = new Graph(n);
        for (int i = 0; i < n; i++)
            for (int hop = 1; hop < n; hop *= 2)
            {
                g.AddEdge(i, (i + hop) % n);
                g.AddEdge(i, ((i - hop) % n + n) % n);
            }
        return new StaticTopology("exponential", g);
    }
}

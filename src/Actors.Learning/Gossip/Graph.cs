namespace Actors.Learning.Gossip;

/// <summary>An undirected simple graph on nodes 0..n-1 (adjacency sets, no self loops).</summary>
public sealed class Graph
{
    private readonly SortedSet<int>[] _adj;

    public Graph(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "a graph needs at least one node");
        _adj = Enumerable.Range(0, n).Select(_ => new SortedSet<int>()).ToArray();
    }

    public int Nodes => _adj.Length;

    public void AddEdge(int i, int j)
    {
        if (i == j) return;
        _adj[i].Add(j);
        _adj[j].Add(i);
    }

    public bool HasEdge(int i, int j) => _adj[i].Contains(j);

    public IReadOnlyCollection<int> NeighborsOf(int i) => _adj[i];

    public int Degree(int i) => _adj[i].Count;

    public int EdgeCount => _adj.Sum(a => a.Count) / 2;

    /// <summary>Connected components among the nodes for which <paramref name="include"/> holds (all when null).</summary>
    public List<List<int>> Components(Func<int, bool>? include = null)
    {
        var seen = new bool[Nodes];
        var result = new List<List<int>>();
        for (int s = 0; s < Nodes; s++)
        {
            if (seen[s] || (include is not null && !include(s))) continue;
            var comp = new List<int>();
            var stack = new Stack<int>();
            stack.Push(s);
            seen[s] = true;
            while (stack.Count > 0)
            {
                int u = stack.Pop();
                comp.Add(u);
                foreach (int v in _adj[u])
                    if (!seen[v] && (include is null || include(v)))
                    {
                        seen[v] = true;
                        stack.Push(v);
                    }
            }
            comp.Sort();
            result.Add(comp);
        }
        return result;
    }

    public bool IsConnected => Components().Count == 1;

    /// <summary>The subgraph keeping only edges between live nodes (down nodes keep no edges).</summary>
    public Graph Restrict(bool[] up)
    {
        var g = new Graph(Nodes);
        for (int i = 0; i < Nodes; i++)
            if (up[i])
                foreach (int j in _adj[i])
                    if (j > i && up[j]) g.AddEdge(i, j);
        return g;
    }
}

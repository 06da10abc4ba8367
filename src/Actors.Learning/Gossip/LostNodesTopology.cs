namespace Actors.Learning.Gossip;

/// <summary>
/// A topology some of whose nodes are gone for good (a cluster node process died): from the moment they are lost, every
/// step's matrix has them down, and the live graph (the inner W's support restricted to the live nodes) gets fresh
/// Metropolis-Hastings weights, as churn does for nodes that are away. Not thread-safe: one owner (the topology actor).
/// </summary>
public sealed class LostNodesTopology(ITopology inner) : ITopology
{
    private readonly HashSet<int> _lost = [];

    public string Name => inner.Name;
    public int Nodes => inner.Nodes;
    public bool IsDirected => inner.IsDirected;
    public int Period => inner.Period;

    /// <summary>The nodes lost so far, ascending.</summary>
    public IReadOnlyList<int> Lost => [.. _lost.Order()];

    /// <summary>Marks nodes as gone; true when any was not already.</summary>
    public bool Lose(IEnumerable<int> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        bool changed = false;
        foreach (int n in nodes)
        {
            if (n < 0 || n >= Nodes) throw new ArgumentOutOfRangeException(nameof(nodes), n, $"node ids are 0..{Nodes - 1}");
            changed |= _lost.Add(n);
        }
        return changed;
    }

    public MixingMatrix At(long step)
    {
        var w = inner.At(step);
        if (_lost.Count == 0) return w;
        var up = Enumerable.Range(0, Nodes).Select(i => w.IsUp(i) && !_lost.Contains(i)).ToArray();
        return MetropolisHastingsWeights.Restricted(w, up);
    }
}

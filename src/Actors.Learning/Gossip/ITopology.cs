namespace Actors.Learning.Gossip;

/// <summary>
/// Who mixes with whom at a step, and with which weights. Nodes are 0..Nodes-1. Weights form a doubly stochastic
/// matrix W (rows: the receiving node); a node that is down at a step has no edges and W_ii = 1.
/// Implementations are deterministic in (seed, step) and safe to call from several threads.
/// </summary>
public interface ITopology
{
    /// <summary>The config name (`topology.type`).</summary>
    string Name { get; }

    int Nodes { get; }

    /// <summary>True when W_ij != W_ji is possible (one-peer exponential): then <see cref="Neighbors"/> and <see cref="Receivers"/> differ.</summary>
    bool IsDirected { get; }

    /// <summary>Steps after which the sequence of mixing matrices repeats (1 for static graphs); the spectral gap is taken over one period.</summary>
    int Period { get; }

    /// <summary>The mixing matrix at a step (immutable snapshot).</summary>
    MixingMatrix At(long step);
}

/// <summary>Per-node views of <see cref="ITopology.At"/>.</summary>
public static class TopologyExtensions
{
    /// <summary>Whose messages <paramref name="node"/> mixes at <paramref name="step"/> (j != node with W_node,j > 0), ascending.</summary>
    public static IReadOnlyList<int> Neighbors(this ITopology topology, int node, long step) => topology.At(step).InNeighbors(node);

    /// <summary>Who mixes <paramref name="node"/>'s message at <paramref name="step"/> (j != node with W_j,node > 0), ascending.</summary>
    public static IReadOnlyList<int> Receivers(this ITopology topology, int node, long step) => topology.At(step).OutNeighbors(node);

    /// <summary>W_ij at a step (i receives from j); W_ii is the self weight.</summary>
    public static double Weight(this ITopology topology, int i, int j, long step) => topology.At(step)[i, j];

    public static bool IsUp(this ITopology topology, int node, long step) => topology.At(step).IsUp(node);

    /// <summary>What node <paramref name="node"/> hands its gossip node at <paramref name="step"/>.</summary>
    public static MixingRow Row(this ITopology topology, int node, long step) => topology.At(step).Row(node);
}

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

    /// <summary>Whose messages <paramref name="node"/> mixes at <paramref name="step"/> (j != node with W_node,j > 0), ascending.</summary>
    IReadOnlyList<int> Neighbors(int node, long step) => At(step).InNeighbors(node);

    /// <summary>Who mixes <paramref name="node"/>'s message at <paramref name="step"/> (j != node with W_j,node > 0), ascending.</summary>
    IReadOnlyList<int> Receivers(int node, long step) => At(step).OutNeighbors(node);

    /// <summary>W_ij at a step (i receives from j); W_ii is the self weight.</summary>
    double Weight(int i, int j, long step) => At(step)[i, j];

    bool IsUp(int node, long step) => At(step).IsUp(node);
}

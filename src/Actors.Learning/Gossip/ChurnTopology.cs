using Actors.Learning.Util;

namespace Actors.Learning.Gossip;

/// <summary>When nodes leave and rejoin (`topology.churn`): every <c>leave-every</c> steps a seeded fraction of the nodes goes down for <c>down-for</c> steps.</summary>
public sealed record ChurnSchedule(int LeaveEvery, int DownFor, double Fraction)
{
    public void Validate(int nodes)
    {
        if (LeaveEvery <= 0) throw new ArgumentOutOfRangeException(nameof(LeaveEvery), LeaveEvery, "topology.churn.leave-every must be positive");
        if (DownFor <= 0) throw new ArgumentOutOfRangeException(nameof(DownFor), DownFor, "topology.churn.down-for must be positive");
        if (Fraction is <= 0 or >= 1 || double.IsNaN(Fraction))
            throw new ArgumentOutOfRangeException(nameof(Fraction), Fraction, "topology.churn.fraction must be in (0, 1)");
        if (nodes < 2) throw new ArgumentException("churn needs at least 2 nodes");
    }
}

/// <summary>
/// Churn over any topology. Leave events happen at steps m * leave-every (m >= 1); event m takes
/// max(1, round(fraction * n)) nodes (at most n - 1), drawn from (seed, m), down for down-for steps. A down node has no
/// edges and W_ii = 1. While some node is down, the live graph (the undirected support of the inner W restricted to live
/// nodes) gets fresh Metropolis-Hastings weights; with every node up the inner W is used unchanged.
/// </summary>
public sealed class ChurnTopology : ITopology
{
    private readonly ITopology _inner;
    private readonly long _seed;
    private readonly MixingMatrixCache _cache = new();

    public ChurnTopology(ITopology inner, ChurnSchedule schedule, long seed)
    {
        schedule.Validate(inner.Nodes);
        _inner = inner;
        Schedule = schedule;
        _seed = seed;
    }

    public ChurnSchedule Schedule { get; }
    public ITopology Inner => _inner;
    public string Name => _inner.Name;
    public int Nodes => _inner.Nodes;
    public bool IsDirected => _inner.IsDirected;
    public int Period => _inner.Period;

    /// <summary>The nodes that leave at event m (m >= 1), ascending.</summary>
    public int[] Leavers(long m)
    {
        int count = Math.Clamp((int)Math.Round(Schedule.Fraction * Nodes), 1, Nodes - 1);
        var perm = Data.Partitioner.Permutation(Nodes, Seeds.Random(_seed, "topology-churn", m));
        return perm.Take(count).Select(x => (int)x).Order().ToArray();
    }

    public bool[] UpAt(long step)
    {
        var up = Enumerable.Repeat(true, Nodes).ToArray();
        long first = Math.Max(1, (step - Schedule.DownFor) / Schedule.LeaveEvery);
        for (long m = first; m * Schedule.LeaveEvery <= step; m++)
            if (step < m * Schedule.LeaveEvery + Schedule.DownFor)
                foreach (int i in Leavers(m)) up[i] = false;
        return up;
    }

    public MixingMatrix At(long step) => _cache.GetOrAdd(step, Build);

    private MixingMatrix Build(long step)
    {
        var w = _inner.At(step);
        var up = UpAt(step);
        return up.All(u => u) ? w : MetropolisHastingsWeights.Restricted(w, up);
    }
}

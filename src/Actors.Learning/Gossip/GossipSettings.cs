namespace Actors.Learning.Gossip;

/// <summary>
/// The `gossip { algorithm, gamma, alpha }` block plus what the nodes need from elsewhere: `optimizer.lr` (eta),
/// `compression.rank` (PowerGossip), the resync period of CHOCO/LEAD copies and the experiment seed.
/// </summary>
/// <param name="Algorithm">dsgd | choco | powergossip | lead.</param>
/// <param name="LearningRate">Local step size (eta in LEAD).</param>
/// <param name="Gamma">Consensus step: D-SGD x += gamma (sum_j w_ij x_j - x) (1 = plain averaging); CHOCO gamma; PowerGossip gamma; LEAD gamma in D += gamma / (2 eta) (Yhat - Yhat_w).</param>
/// <param name="Alpha">LEAD's shift rate a in H = (1 - a) H + a Yhat; 1 / (1 + omega) for an omega-unbiased compressor. Null means 0.5.</param>
/// <param name="ResyncEvery">CHOCO / LEAD: every this many steps the public copies are sent in full precision (0 = only on demand).</param>
/// <param name="Rank">PowerGossip rank r.</param>
/// <param name="Seed">Experiment seed: compression randomness and PowerGossip's per-edge vectors derive from it.</param>
public sealed record GossipSettings(string Algorithm, double LearningRate, double Gamma = 1.0, double? Alpha = null, int ResyncEvery = 0, int Rank = 1, long Seed = 1)
{
    public double AlphaOrDefault => Alpha ?? 0.5;
}

/// <summary>Per-node event counts (what was dropped or repaired), for metrics.</summary>
public sealed class GossipCounters
{
    public long Duplicates { get; internal set; }
    public long Stale { get; internal set; }
    public long BrokenCopies { get; internal set; }
    public long ResyncsApplied { get; internal set; }
    public long EdgeResets { get; internal set; }
}

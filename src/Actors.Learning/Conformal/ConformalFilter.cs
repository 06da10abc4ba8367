using Actors.Learning.Util;
using Actors.Learning.Aggregation;
using TorchSharp;

namespace Actors.Learning.Conformal;

/// <summary>
/// <c>aggregator { conformal-filter { eps, k } }</c>: before any inner aggregator, score each update of the round by k-NN
/// nonconformity against the other updates (sum of the distances to its k nearest), turn the scores into full-CP
/// p-values, p_i = (1 + #{j != i : alpha_j &gt;= alpha_i}) / n, and drop the updates with p_i &lt; eps (counted as "filtered").
/// The least strange update has p = 1, so a round is never emptied. Rounds of fewer than 3 updates pass through;
/// k is capped at n - 1 so that small (asynchronous) rounds still work.
/// </summary>
public sealed class ConformalFilter : IAggregator
{
    public const int DefaultK = 2;

    public ConformalFilter(IAggregator inner, double eps, int k = DefaultK)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (!(eps >= 0 && eps < 1)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "conformal-filter.eps must be in [0, 1)");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "conformal-filter.k must be at least 1");
        Eps = eps;
        K = k;
    }

    public IAggregator Inner { get; }
    public double Eps { get; }
    public int K { get; }
    public string Name => $"conformal-filter({Inner.Name})";

    /// <summary>The conformal p-value of every update against the others of its round.</summary>
    public double[] PValues(IReadOnlyList<torch.Tensor> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        int n = updates.Count;
        if (n < 3) return [.. Enumerable.Repeat(1.0, n)];
        long d = updates[0].shape[0];
        for (int i = 0; i < n; i++)
            if (updates[i].dim() != 1 || updates[i].shape[0] != d)
                throw new ArgumentException($"update {i} has shape [{string.Join(", ", updates[i].shape)}], expected [{d}]");
        int k = Math.Min(K, n - 1);
        double[] dist;
        using (var scope = torch.NewDisposeScope())
        {
            var stacked = torch.stack(updates).to_type(torch.float32);
            var matrix = torch.cdist(stacked, stacked, 2.0, compute_mode.donot_use_mm_for_euclid_dist).to_type(torch.float64).contiguous();
            dist = matrix.ToHostArray<double>();
        }
        // A non-finite update is infinitely far from everything: it gets the largest score instead of poisoning the others'.
        for (int t = 0; t < dist.Length; t++)
            if (double.IsNaN(dist[t])) dist[t] = double.PositiveInfinity;
        var scores = new double[n];
        var labels = new int[n];
        Span<double> buffer = stackalloc double[k];
        for (int i = 0; i < n; i++)
            scores[i] = KSmallest.Select(dist.AsSpan(i * n, n), labels, i, 0, true, buffer).Sum;
        var p = new double[n];
        for (int i = 0; i < n; i++)
        {
            int count = 0;
            for (int j = 0; j < n; j++)
                if (j != i && Ties.AtLeast(scores[j], scores[i])) count++;
            p[i] = (1.0 + count) / n;
        }
        return p;
    }

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var p = PValues(updates);
        var kept = new List<torch.Tensor>(updates.Count);
        for (int i = 0; i < updates.Count; i++)
            if (p[i] >= Eps) kept.Add(updates[i]);
        if (kept.Count < updates.Count) context.CountDropped("filtered", updates.Count - kept.Count);
        return Inner.Aggregate(kept, context);
    }
}

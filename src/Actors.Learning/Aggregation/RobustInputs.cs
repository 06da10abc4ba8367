using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// The input hygiene every aggregator shares: shape checks, stacking into one [n, d] matrix (so the per-worker
/// inner products become one matrix-vector product) and rejection of non-finite updates, which are dropped
/// and counted as "non_finite", never propagated.
/// </summary>
internal static class RobustInputs
{
    public const string NonFinite = "non_finite";

    /// <summary>Checks that every update is a 1-D tensor of one common length, and returns that length.</summary>
    public static long Length(IReadOnlyList<torch.Tensor> updates)
    {
        if (updates.Count == 0) throw new ArgumentException("cannot aggregate zero updates", nameof(updates));
        long d = updates[0].shape.Length == 1 ? updates[0].shape[0] : -1;
        foreach (var u in updates)
        {
            if (u.shape.Length != 1 || u.shape[0] != d)
            {
                throw new ArgumentException(
                    $"updates must be 1-D vectors of one common length (got shapes {string.Join(", ", updates.Select(x => "[" + string.Join(",", x.shape) + "]"))})",
                    nameof(updates));
            }
        }
        return d;
    }

    /// <summary>
    /// Stacks the finite updates into a new [k, d] matrix (k may be 0) in the caller's dispose scope; counts the others.
    /// With <paramref name="squaredNorms"/> the row statistic used for the finiteness test is ||x_i||^2 (returned, in
    /// double), which centered clipping needs anyway; otherwise the row sum is used. A NaN or infinity always makes the
    /// statistic non-finite; a finite row whose statistic overflows float32 is confirmed element-wise and kept.
    /// </summary>
    public static torch.Tensor StackFinite(IReadOnlyList<torch.Tensor> updates, AggregationContext context,
        bool squaredNorms, out double[] rowStatistic)
    {
        Length(updates);
        var x = torch.stack(updates.Select(u => u.detach()), 0);
        var stat = squaredNorms
            ? torch.linalg.vector_norm(x, 2, [1L]).to(torch.float64).square()
            : x.sum(1).to(torch.float64);
        var all = stat.data<double>().ToArray();
        rowStatistic = all;
        var keep = new List<long>(updates.Count);
        for (int i = 0; i < rowStatistic.Length; i++)
        {
            if (double.IsFinite(rowStatistic[i]) || torch.isfinite(x[i]).all().item<bool>()) keep.Add(i);
        }
        if (keep.Count == rowStatistic.Length) return x;
        context.CountDropped(NonFinite, rowStatistic.Length - keep.Count);
        rowStatistic = keep.Select(i => all[i]).ToArray();
        using var idx = torch.tensor(keep.ToArray(), torch.int64);
        return x.index_select(0, idx);
    }

    /// <summary>The updates that are finite (same tensors, not copies); the others are counted as dropped.</summary>
    public static List<torch.Tensor> Finite(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        Length(updates);
        var kept = new List<torch.Tensor>(updates.Count);
        foreach (var u in updates)
        {
            using var s = u.sum(type: torch.float64);
            if (double.IsFinite(s.item<double>()) || torch.isfinite(u).all().item<bool>()) kept.Add(u);
        }
        if (kept.Count < updates.Count) context.CountDropped(NonFinite, updates.Count - kept.Count);
        return kept;
    }

    /// <summary>
    /// The finite updates (same tensors, not copies) and their squared norms; the others are counted as dropped.
    /// ||x||^2 doubles as the finiteness test (NaN or infinity makes it non-finite; an overflow is confirmed element-wise).
    /// </summary>
    public static List<torch.Tensor> FiniteWithSquaredNorms(IReadOnlyList<torch.Tensor> updates, AggregationContext context,
        out double[] squaredNorms)
    {
        Length(updates);
        var kept = new List<torch.Tensor>(updates.Count);
        var norms = new List<double>(updates.Count);
        foreach (var u in updates)
        {
            using var s = u.dot(u);
            double sq = s.to(torch.float64).item<double>();
            if (double.IsFinite(sq) || torch.isfinite(u).all().item<bool>())
            {
                kept.Add(u);
                norms.Add(sq);
            }
        }
        if (kept.Count < updates.Count) context.CountDropped(NonFinite, updates.Count - kept.Count);
        squaredNorms = [.. norms];
        return kept;
    }

    public static double[] ToDoubles(torch.Tensor t) => t.to(torch.float64).data<double>().ToArray();
}

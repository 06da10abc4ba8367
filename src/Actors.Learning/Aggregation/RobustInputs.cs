using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// The input hygiene every aggregator shares: shape checks and rejection of non-finite updates, which are dropped
/// and counted as "non_finite", never propagated. Inputs are never stacked into an [n, d] copy: at d = 1M the fresh
/// allocation cost more than the work it enabled (measured).
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

    /// <summary>The updates that are finite (same tensors, not copies); the others are counted as dropped.</summary>
    public static List<torch.Tensor> Finite(IReadOnlyList<torch.Tensor> updates, AggregationContext context) =>
        FiniteWithSquaredNorms(updates, context, out _);

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
}

using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Krum (Blanchard et al. 2017) and Multi-Krum: the score of input i is the sum of its squared distances to its
/// n - f - 2 nearest other inputs; Krum returns the input with the lowest score (ties: lowest index), Multi-Krum the
/// mean of the m lowest. n is the number of inputs that arrived (after bucketing: the number of buckets). The
/// pairwise distances come from one Gram matrix, the n^2 d part of the cost.
/// </summary>
public sealed class Krum : IAggregator
{
    public Krum(int f, int m = 1)
    {
        if (f < 0) throw new ArgumentException($"f = {f} is invalid: must be >= 0", nameof(f));
        if (m < 1) throw new ArgumentException($"aggregator.m = {m} is invalid: must be >= 1 (1 = Krum)", nameof(m));
        F = f;
        M = m;
    }

    public int F { get; }

    public int M { get; }

    public string Name => "krum";

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        long d = RobustInputs.Length(updates);
        using var scope = torch.NewDisposeScope();
        var x = RobustInputs.FiniteWithSquaredNorms(updates, context, out _);
        int n = x.Count;
        if (n == 0) return torch.zeros(d, updates[0].dtype).MoveToOuterDisposeScope();
        var chosen = Select(Gram.Of(x), n);
        var sum = x[chosen[0]].detach().clone();
        for (int k = 1; k < chosen.Length; k++) sum.add_(x[chosen[k]]);
        if (chosen.Length > 1) sum.DivBy_(chosen.Length);
        return sum.MoveToOuterDisposeScope();
    }

    /// <summary>Krum scores of the inputs (exposed for tests and diagnostics).</summary>
    internal double[] Scores(Gram gram, int n)
    {
        // With too few inputs (drops, async) the neighbourhood shrinks to at least one neighbour.
        int k = Math.Clamp(n - F - 2, Math.Min(1, n - 1), n - 1);
        var scores = new double[n];
        var row = new double[n - 1];
        for (int i = 0; i < n; i++)
        {
            int c = 0;
            for (int j = 0; j < n; j++) if (j != i) row[c++] = gram.SquaredDistance(i, j);
            Array.Sort(row);
            double s = 0;
            for (int t = 0; t < k; t++) s += row[t];
            scores[i] = s;
        }
        return scores;
    }

    internal int[] Select(Gram gram, int n)
    {
        var scores = Scores(gram, n);
        return Enumerable.Range(0, n).OrderBy(i => scores[i]).ThenBy(i => i).Take(Math.Min(M, n)).ToArray();
    }
}

using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// RFA (Pillutla et al.): the geometric median by smoothed Weiszfeld, T iterations from z = 0:
/// beta_i = 1 / max(||z - x_i||, nu), z = sum beta_i x_i / sum beta_i (uniform weights cancel). z stays in the span of
/// the inputs, so the iterations run on coefficients w (z = X^T w) with distances from the Gram matrix; only the
/// final z is materialized.
/// </summary>
public sealed class Rfa : IAggregator
{
    public Rfa(int iterations = 8, double nu = 0.1)
    {
        if (iterations < 1) throw new ArgumentException($"aggregator.iterations = {iterations} is invalid: must be >= 1", nameof(iterations));
        if (!(nu > 0)) throw new ArgumentException($"aggregator.nu = {nu} is invalid: must be > 0", nameof(nu));
        Iterations = iterations;
        Nu = nu;
    }

    public int Iterations { get; }

    public double Nu { get; }

    public string Name => "rfa";

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        long d = RobustInputs.Length(updates);
        using var scope = torch.NewDisposeScope();
        var x = RobustInputs.FiniteWithSquaredNorms(updates, context, out _);
        int n = x.Count;
        if (n == 0) return torch.zeros(d, updates[0].dtype).MoveToOuterDisposeScope();
        var w = Weights(Gram.Of(x));
        var z = x[0].mul(w[0]);
        for (int i = 1; i < n; i++) z.add_(x[i], alpha: w[i]);
        return z.MoveToOuterDisposeScope();
    }

    /// <summary>The coefficients w of the final z = sum_i w_i x_i.</summary>
    internal double[] Weights(Gram gram)
    {
        int n = gram.N;
        var w = new double[n]; // z = 0
        for (int t = 0; t < Iterations; t++)
        {
            var gw = gram.Times(w);
            double zz = 0;
            for (int i = 0; i < n; i++) zz += w[i] * gw[i];
            var beta = new double[n];
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                double dist = Math.Sqrt(Math.Max(0, gram.G[i, i] - 2 * gw[i] + zz));
                beta[i] = 1 / Math.Max(dist, Nu);
                total += beta[i];
            }
            for (int i = 0; i < n; i++) w[i] = beta[i] / total;
        }
        return w;
    }
}

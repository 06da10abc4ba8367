using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Inner products of the stacked inputs, G = X X^T, in double: one matrix product gives every pairwise squared
/// distance (||x_i||^2 + ||x_j||^2 - 2 x_i.x_j) and every distance to any point in the inputs' span.
/// </summary>
internal sealed class Gram
{
    private Gram(double[,] g) => G = g;

    public double[,] G { get; }

    public int N => G.GetLength(0);

    public static Gram Of(torch.Tensor x)
    {
        int n = (int)x.shape[0];
        using var scope = torch.NewDisposeScope();
        var flat = x.matmul(x.t()).to(torch.float64).data<double>().ToArray();
        var g = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) g[i, j] = 0.5 * (flat[i * n + j] + flat[j * n + i]);
        }
        return new Gram(g);
    }

    /// <summary>||x_i - x_j||^2, clamped at 0 against rounding.</summary>
    public double SquaredDistance(int i, int j) => i == j ? 0 : Math.Max(0, G[i, i] + G[j, j] - 2 * G[i, j]);

    /// <summary>(G w)_i.</summary>
    public double[] Times(double[] w)
    {
        var r = new double[N];
        for (int i = 0; i < N; i++)
        {
            double s = 0;
            for (int j = 0; j < N; j++) s += G[i, j] * w[j];
            r[i] = s;
        }
        return r;
    }
}

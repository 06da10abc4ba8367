using Actors.Learning.Util;
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

    /// <summary>
    /// G of the inputs, accumulated over column blocks: each block of the n vectors is stacked into a small buffer
    /// (cache-sized) and multiplied, so no [n, d] copy of the inputs is ever made.
    /// </summary>
    public static Gram Of(IReadOnlyList<torch.Tensor> inputs, long blockColumns = 1 << 16)
    {
        int n = inputs.Count;
        long d = inputs[0].shape[0];
        using var scope = torch.NewDisposeScope();
        var acc = torch.zeros(n, n, torch.float64);
        for (long start = 0; start < d; start += blockColumns)
        {
            using var inner = torch.NewDisposeScope();
            long len = Math.Min(blockColumns, d - start);
            var block = torch.stack(inputs.Select(x => x.detach().narrow(0, start, len)), 0);
            acc.add_(block.matmul(block.t()).to(torch.float64));
        }
        var flat = acc.ToHostArray<double>();
        var g = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) g[i, j] = 0.5 * (flat[i * n + j] + flat[j * n + i]);
        }
        return new Gram(g);
    }

    /// <summary>||x_i - x_j||^2, clamped at 0 against rounding.</summary>
    public double SquaredDistance(int i, int j) => i == j ? 0 : Math.Max(0, G[i, i] + G[j, j] - 2 * G[i, j]);
}

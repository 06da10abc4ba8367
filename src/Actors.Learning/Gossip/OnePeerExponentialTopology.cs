namespace Actors.Learning.Gossip;

/// <summary>
/// Time-varying one-peer exponential graph (Ying et al., NeurIPS 2021): with tau = ceil(log2 n) and hop = 2^(t mod tau),
/// at step t node i mixes x_i and x_(i + hop) with weights 1/2 (so it sends to i - hop). W is doubly stochastic but
/// directed; for n a power of two the product of tau consecutive matrices is exactly 11^T / n.
/// </summary>
public sealed class OnePeerExponentialTopology : ITopology
{
    private readonly MixingMatrix[] _matrices;

    public OnePeerExponentialTopology(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "topology.nodes must be positive");
        Nodes = n;
        int tau = 0;
        while ((1 << tau) < n) tau++;
        Period = Math.Max(1, tau);
        _matrices = new MixingMatrix[Period];
        for (int k = 0; k < Period; k++)
        {
            var w = new double[n * n];
            int hop = n == 1 ? 0 : (1 << k) % n;
            for (int i = 0; i < n; i++)
            {
                w[i * n + i] += 0.5;
                w[i * n + (i + hop) % n] += 0.5;
            }
            _matrices[k] = new MixingMatrix(n, w);
        }
    }

    public string Name => "one-peer-exponential";
    public int Nodes { get; }
    public bool IsDirected => Nodes > 2;
    public int Period { get; }

    public MixingMatrix At(long step) => _matrices[(int)(step % Period)];
}

namespace Actors.Learning.Gossip;

/// <summary>
/// An immutable n x n mixing matrix W (row i: what node i mixes) with its in/out neighbour lists and which nodes are up.
/// </summary>
public sealed class MixingMatrix
{
    private readonly double[] _w;
    private readonly int[][] _in;
    private readonly int[][] _out;
    private readonly bool[] _up;

    public MixingMatrix(int n, double[] weights, bool[]? up = null)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "a mixing matrix needs at least one node");
        if (weights.Length != n * n) throw new ArgumentException($"expected {n * n} weights, got {weights.Length}", nameof(weights));
        Nodes = n;
        _w = (double[])weights.Clone();
        _up = up is null ? Enumerable.Repeat(true, n).ToArray() : (bool[])up.Clone();
        _in = new int[n][];
        _out = new int[n][];
        for (int i = 0; i < n; i++)
        {
            _in[i] = Enumerable.Range(0, n).Where(j => j != i && _w[i * n + j] > 0).ToArray();
            _out[i] = Enumerable.Range(0, n).Where(j => j != i && _w[j * n + i] > 0).ToArray();
        }
    }

    public int Nodes { get; }

    public double this[int i, int j] => _w[i * Nodes + j];

    public IReadOnlyList<int> InNeighbors(int node) => _in[node];

    public IReadOnlyList<int> OutNeighbors(int node) => _out[node];

    public bool IsUp(int node) => _up[node];

    public bool IsSymmetric
    {
        get
        {
            for (int i = 0; i < Nodes; i++)
                for (int j = i + 1; j < Nodes; j++)
                    if (this[i, j] != this[j, i]) return false;
            return true;
        }
    }

    /// <summary>Largest deviation of any row or column sum from 1.</summary>
    public double StochasticityError()
    {
        double worst = 0;
        for (int i = 0; i < Nodes; i++)
        {
            double row = 0, col = 0;
            for (int j = 0; j < Nodes; j++)
            {
                row += this[i, j];
                col += this[j, i];
            }
            worst = Math.Max(worst, Math.Max(Math.Abs(row - 1), Math.Abs(col - 1)));
        }
        return worst;
    }

    /// <summary>Row-major copy of W.</summary>
    public double[] ToArray() => (double[])_w.Clone();

    /// <summary>The row a node needs for one step: its self weight and its in-neighbours' weights.</summary>
    public MixingRow Row(int node) =>
        new(node, this[node, node], _in[node].Select(j => (j, this[node, j])).ToArray(), _out[node], _up[node]);

    public static MixingMatrix Multiply(MixingMatrix a, MixingMatrix b)
    {
        if (a.Nodes != b.Nodes) throw new ArgumentException("matrices differ in size");
        int n = a.Nodes;
        var w = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++)
            {
                double aik = a[i, k];
                if (aik == 0) continue;
                for (int j = 0; j < n; j++) w[i * n + j] += aik * b[k, j];
            }
        return new MixingMatrix(n, w);
    }
}

/// <summary>
/// What one node needs from the topology at one step: W_ii, (j, W_ij) for every in-neighbour, and the out-neighbours
/// (who mix this node's message). A PeerActor builds it with <see cref="MixingMatrix.Row"/> and hands it to its gossip node.
/// </summary>
public sealed record MixingRow(int Node, double SelfWeight, IReadOnlyList<(int Neighbor, double Weight)> InNeighbors, IReadOnlyList<int> OutNeighbors, bool IsUp = true)
{
    public double WeightOf(int neighbor)
    {
        foreach (var (j, w) in InNeighbors)
            if (j == neighbor) return w;
        return 0;
    }

    public static MixingRow Isolated(int node) => new(node, 1.0, [], [], true);
}

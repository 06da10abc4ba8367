namespace Actors.Learning.Conformal;

/// <summary>
/// Exact full CP for the k-NN and simplified k-NN measures by incremental learning (ALGORITHMS.md section 11).
/// Fit precomputes, for every training point, the sum and the k-th of its k nearest same-label and other-label
/// distances. Adding (x, y) changes point i's score only if d(x, x_i) beats the k-th distance on the side y falls on,
/// and then only by swapping that k-th distance for d(x, x_i): O(1) per training point and label.
/// </summary>
public sealed class OptimizedKnnConformalPredictor(int k = KnnMeasure.DefaultK, bool simplified = false, DistanceBackend backend = DistanceBackend.Naive)
    : IConformalPredictor
{
    private const int BlockRows = 256;
    private readonly KnnMeasure _measure = new(k, simplified, backend);
    private LabelledData? _training;
    private double[] _sumSame = [], _kthSame = [], _sumOther = [], _kthOther = [];

    public string Name => "optimized-" + _measure.Name;
    public int K => _measure.K;

    public void Fit(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        _measure.Validate(training);
        int n = training.Count;
        _sumSame = new double[n];
        _kthSame = new double[n];
        _sumOther = new double[n];
        _kthOther = new double[n];
        var block = new double[Math.Min(BlockRows, n) * n];
        Span<double> buffer = stackalloc double[K];
        for (int s = 0; s < n; s += BlockRows)
        {
            int rows = Math.Min(BlockRows, n - s);
            Distances.Block(training.Features, s, rows, training.Features, n, training.Dimension, block, _measure.Backend);
            for (int r = 0; r < rows; r++)
            {
                int i = s + r;
                var row = block.AsSpan(r * n, n);
                (_sumSame[i], _kthSame[i]) = KSmallest.Select(row, training.Labels, i, training.Labels[i], true, buffer);
                if (!_measure.Simplified)
                    (_sumOther[i], _kthOther[i]) = KSmallest.Select(row, training.Labels, i, training.Labels[i], false, buffer);
            }
        }
        _training = training;
    }

    public double[] PValues(ReadOnlySpan<double> x)
    {
        var training = _training ?? throw new InvalidOperationException("call Fit before PValues");
        training.RequireDimension(x);
        var distances = new double[training.Count];
        Distances.ToRows(x, training, distances);
        return PValuesFromDistances(distances);
    }

    /// <summary>p-values of many test points (row-major [count, d]); distances computed in one batch by the backend.</summary>
    public double[][] PValuesMany(double[] rows, int count)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var training = _training ?? throw new InvalidOperationException("call Fit before PValues");
        if (rows.Length != count * training.Dimension)
            throw new ArgumentException($"mismatched feature dimensions: {rows.Length} values for {count} test points of dimension {training.Dimension}");
        int n = training.Count;
        var result = new double[count][];
        int chunk = Math.Max(1, Math.Min(count, BlockRows));
        var block = new double[chunk * n];
        for (int s = 0; s < count; s += chunk)
        {
            int m = Math.Min(chunk, count - s);
            Distances.Block(rows, s, m, training.Features, n, training.Dimension, block, _measure.Backend);
            for (int r = 0; r < m; r++) result[s + r] = PValuesFromDistances(block.AsSpan(r * n, n));
        }
        return result;
    }

    private double[] PValuesFromDistances(ReadOnlySpan<double> d)
    {
        var training = _training!;
        int n = training.Count, classes = training.Classes, kk = K;
        var labels = training.Labels;

        // The test point's own neighbours: the k nearest of each class, merged for the other-label side.
        var perClass = new double[classes * kk];
        var perClassSum = new double[classes];
        for (int c = 0; c < classes; c++)
            perClassSum[c] = KSmallest.Select(d, labels, -1, c, true, perClass.AsSpan(c * kk, kk)).Sum;
        Span<double> buffer = stackalloc double[kk];

        // alpha_i when the test label equals y_i (same side grows) and when it differs (other side grows).
        var whenSame = new double[n];
        var whenOther = new double[n];
        for (int i = 0; i < n; i++)
        {
            double di = d[i];
            double same = di < _kthSame[i] ? _sumSame[i] - _kthSame[i] + di : _sumSame[i];
            if (_measure.Simplified)
            {
                whenSame[i] = same;
                whenOther[i] = _sumSame[i];
                continue;
            }
            double other = di < _kthOther[i] ? _sumOther[i] - _kthOther[i] + di : _sumOther[i];
            whenSame[i] = KnnMeasure.Ratio(same, _sumOther[i]);
            whenOther[i] = KnnMeasure.Ratio(_sumSame[i], other);
        }

        var p = new double[classes];
        for (int y = 0; y < classes; y++)
        {
            double test;
            if (_measure.Simplified) test = perClassSum[y];
            else
            {
                var sel = new KSmallest(buffer);
                for (int c = 0; c < classes; c++)
                {
                    if (c == y) continue;
                    foreach (var v in perClass.AsSpan(c * kk, kk)) sel.Offer(v);
                }
                test = KnnMeasure.Ratio(perClassSum[y], sel.SumAndKth($"other-label neighbours of label {y}").Sum);
            }
            int count = 0;
            for (int i = 0; i < n; i++)
                if (Ties.AtLeast(labels[i] == y ? whenSame[i] : whenOther[i], test)) count++;
            p[y] = (1.0 + count) / (n + 1);
        }
        return p;
    }
}

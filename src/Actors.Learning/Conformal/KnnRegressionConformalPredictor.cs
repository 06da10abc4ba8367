namespace Actors.Learning.Conformal;

/// <summary>Examples with real-valued targets for k-NN regression CP: row-major features [Count, Dimension].</summary>
public sealed class RegressionData
{
    public RegressionData(double[] features, double[] targets, int dimension)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (dimension <= 0) throw new ArgumentException($"feature dimension must be positive, got {dimension}", nameof(dimension));
        if (features.Length != targets.Length * dimension)
            throw new ArgumentException($"mismatched feature dimensions: {features.Length} feature values for {targets.Length} examples of dimension {dimension}");
        Features = features;
        Targets = targets;
        Dimension = dimension;
    }

    public double[] Features { get; }
    public double[] Targets { get; }
    public int Dimension { get; }
    public int Count => Targets.Length;
    public ReadOnlySpan<double> Row(int i) => Features.AsSpan(i * Dimension, Dimension);

    public void RequireDimension(ReadOnlySpan<double> x)
    {
        if (x.Length != Dimension)
            throw new ArgumentException($"mismatched feature dimensions: test point has {x.Length} features, the training bag has {Dimension}");
    }

    internal void RequireK(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        if (Count < k + 1) throw new ArgumentException($"k = {k} is larger than the {Count - 1} other training examples each point has");
    }

    /// <summary>
    /// The k nearest examples of row <paramref name="x"/> in (distance, index) order, skipping <paramref name="skip"/>;
    /// returns the sum of their targets, the k-th distance and the k-th target. <paramref name="distances"/> is filled.
    /// </summary>
    internal (double Sum, double KthDistance, double KthTarget) Neighbours(ReadOnlySpan<double> distances, int skip, int k)
    {
        Span<int> best = k <= 64 ? stackalloc int[k] : new int[k];
        int filled = 0;
        for (int j = 0; j < distances.Length; j++)
        {
            if (j == skip) continue;
            double dj = distances[j];
            // (distance, index) order; j grows, so an equal distance never beats an earlier index.
            if (filled == k && dj >= distances[best[k - 1]]) continue;
            int pos = filled == k ? k - 1 : filled++;
            while (pos > 0 && distances[best[pos - 1]] > dj)
            {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = j;
        }
        double sum = 0;
        for (int t = 0; t < k; t++) sum += Targets[best[t]];
        return (sum, distances[best[k - 1]], Targets[best[k - 1]]);
    }
}

/// <summary>
/// Exact full CP for k-NN regression (nonconformity |y_i - mean of the k nearest targets|) by an interval sweep.
/// For each training point, adding (x, y) either leaves its score constant (x is not closer than its k-th neighbour)
/// or makes it |a_i - y / k| (x replaces the k-th neighbour). Either way {y : alpha_i(y) &gt;= |y - yhat(x)|} is one closed
/// interval, possibly unbounded (k = 1 gives half-lines or the whole line); the p-value function is a count of
/// intervals. O(n d + n log n) per test point, for every y at once.
/// </summary>
public sealed class KnnRegressionConformalPredictor(int k = KnnMeasure.DefaultK)
{
    private RegressionData? _training;
    private double[] _sum = [], _kthDistance = [], _kthTarget = [];

    public int K { get; } = k >= 1 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");

    public void Fit(RegressionData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.RequireK(K);
        int n = training.Count;
        _sum = new double[n];
        _kthDistance = new double[n];
        _kthTarget = new double[n];
        var row = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) row[j] = Distances.Euclidean(training.Row(i), training.Row(j));
            (_sum[i], _kthDistance[i], _kthTarget[i]) = training.Neighbours(row, i, K);
        }
        _training = training;
    }

    public RegressionPValues Predict(ReadOnlySpan<double> x)
    {
        var training = _training ?? throw new InvalidOperationException("call Fit before Predict");
        training.RequireDimension(x);
        int n = training.Count;
        var d = new double[n];
        for (int j = 0; j < n; j++) d[j] = Distances.Euclidean(x, training.Row(j));
        double yhat = training.Neighbours(d, -1, K).Sum / K;
        var lo = new double[n];
        var hi = new double[n];
        for (int i = 0; i < n; i++)
        {
            double yi = training.Targets[i];
            if (!(d[i] < _kthDistance[i]))
            {
                double c = Math.Abs(yi - _sum[i] / K);
                (lo[i], hi[i]) = (yhat - c, yhat + c);
                continue;
            }
            // alpha_i(y) = |a - y/k| >= |y - yhat|  <=>  (y/k - a - (y - yhat)) (y/k - a + (y - yhat)) >= 0.
            double a = yi - (_sum[i] - _kthTarget[i]) / K;
            if (K == 1)
            {
                // First factor is the constant yhat - a: a half-line from the root of the second, or everything.
                double c0 = yhat - a, mid = (a + yhat) / 2;
                (lo[i], hi[i]) = c0 > 0 ? (mid, double.PositiveInfinity)
                    : c0 < 0 ? (double.NegativeInfinity, mid)
                    : (double.NegativeInfinity, double.PositiveInfinity);
                continue;
            }
            double r1 = (yhat - a) / (1 - 1.0 / K), r2 = (a + yhat) / (1 + 1.0 / K);
            (lo[i], hi[i]) = (Math.Min(r1, r2), Math.Max(r1, r2));
        }
        return new RegressionPValues(lo, hi, yhat);
    }
}

/// <summary>The p-value of every candidate target y of one test point: (1 + #{i : lo_i &lt;= y &lt;= hi_i}) / (n + 1).</summary>
public sealed class RegressionPValues
{
    private readonly double[] _lo, _hi;

    internal RegressionPValues(double[] lo, double[] hi, double pointPrediction)
    {
        _lo = (double[])lo.Clone();
        _hi = (double[])hi.Clone();
        SnapNearlyEqualBreakpoints(_lo, _hi);
        Array.Sort(_lo);
        Array.Sort(_hi);
        PointPrediction = pointPrediction;
    }

    /// <summary>
    /// The tie rule in y-space: endpoints within 1e-12 relative of each other are one breakpoint (the same root computed
    /// along different paths), and every interval touching it is closed over the whole cluster, as the standard path
    /// counts scores within the tolerance as equal there.
    /// </summary>
    private static void SnapNearlyEqualBreakpoints(double[] lo, double[] hi)
    {
        var values = lo.Concat(hi).Where(double.IsFinite).Order().ToArray();
        if (values.Length == 0) return;
        var clusterMin = new Dictionary<double, double>();
        var clusterMax = new Dictionary<double, double>();
        int start = 0;
        for (int j = 1; j <= values.Length; j++)
        {
            if (j < values.Length && values[j] - values[j - 1] <= Ties.RelativeTolerance * Math.Max(1, Math.Abs(values[j]))) continue;
            for (int t = start; t < j; t++)
            {
                clusterMin[values[t]] = values[start];
                clusterMax[values[t]] = values[j - 1];
            }
            start = j;
        }
        for (int i = 0; i < lo.Length; i++)
        {
            if (double.IsFinite(lo[i])) lo[i] = clusterMin[lo[i]];
            if (double.IsFinite(hi[i])) hi[i] = clusterMax[hi[i]];
        }
    }

    /// <summary>The k-NN prediction of the test point (the centre of the constant intervals).</summary>
    public double PointPrediction { get; }

    public int TrainingCount => _lo.Length;

    public double PValue(double y)
    {
        int atOrBelow = UpperBound(_lo, y);      // lo_i <= y
        int endedBefore = LowerBound(_hi, y);    // hi_i < y
        return (1.0 + atOrBelow - endedBefore) / (_lo.Length + 1);
    }

    /// <summary>The breakpoints where the p-value can change, sorted, finite only.</summary>
    public double[] Breakpoints() =>
        [.. _lo.Concat(_hi).Where(double.IsFinite).Distinct().Order()];

    /// <summary>{ y : p(y) &gt; eps } as sorted disjoint intervals (closed where the endpoint itself belongs).</summary>
    public IReadOnlyList<(double Lo, double Hi)> PredictionSet(double eps)
    {
        var points = Breakpoints();
        var result = new List<(double Lo, double Hi)>();
        double? start = null;
        // Pieces in order: each open gap and each breakpoint, probed at one point inside.
        void Piece(double from, double probe)
        {
            if (PValue(probe) > eps) start ??= from;
            else if (start is { } s)
            {
                result.Add((s, from));
                start = null;
            }
        }
        if (points.Length == 0)
        {
            if (PValue(0) > eps) result.Add((double.NegativeInfinity, double.PositiveInfinity));
            return result;
        }
        Piece(double.NegativeInfinity, points[0] - 1 - Math.Abs(points[0]));
        for (int j = 0; j < points.Length; j++)
        {
            Piece(points[j], points[j]);
            double next = j + 1 < points.Length ? points[j + 1] : double.PositiveInfinity;
            double probe = j + 1 < points.Length ? points[j] + (next - points[j]) / 2 : points[j] + 1 + Math.Abs(points[j]);
            Piece(points[j], probe);
        }
        if (start is { } open) result.Add((open, double.PositiveInfinity));
        return result;
    }

    private static int UpperBound(double[] sorted, double v)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= v) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static int LowerBound(double[] sorted, double v)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < v) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}

/// <summary>Standard full CP for k-NN regression at one candidate target: every leave-one-out prediction from scratch.</summary>
public sealed class StandardKnnRegressionConformalPredictor(int k = KnnMeasure.DefaultK)
{
    private RegressionData? _training;

    public int K { get; } = k >= 1 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");

    public void Fit(RegressionData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.RequireK(K);
        _training = training;
    }

    public double PValue(ReadOnlySpan<double> x, double y)
    {
        var training = _training ?? throw new InvalidOperationException("call Fit before PValue");
        training.RequireDimension(x);
        int n = training.Count, dim = training.Dimension;
        var features = new double[(n + 1) * dim];
        training.Features.CopyTo(features, 0);
        x.CopyTo(features.AsSpan(n * dim));
        var targets = new double[n + 1];
        training.Targets.CopyTo(targets, 0);
        targets[n] = y;
        var bag = new RegressionData(features, targets, dim);
        var scores = new double[n + 1];
        var row = new double[n + 1];
        for (int i = 0; i <= n; i++)
        {
            for (int j = 0; j <= n; j++) row[j] = Distances.Euclidean(bag.Row(i), bag.Row(j));
            scores[i] = Math.Abs(targets[i] - bag.Neighbours(row, i, K).Sum / K);
        }
        return Ties.PValue(scores.AsSpan(0, n), scores[n]);
    }
}

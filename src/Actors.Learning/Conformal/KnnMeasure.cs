namespace Actors.Learning.Conformal;

/// <summary>
/// k-NN nonconformity: (sum of the k nearest same-label distances) / (sum of the k nearest other-label distances).
/// With <c>simplified</c> only the numerator (the simplified k-NN measure).
/// </summary>
public sealed class KnnMeasure(int k = KnnMeasure.DefaultK, bool simplified = false, DistanceBackend backend = DistanceBackend.Naive) : INonconformityMeasure
{
    public const int DefaultK = 15;
    private const int BlockRows = 256;

    public int K { get; } = k >= 1 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
    public bool Simplified { get; } = simplified;
    public DistanceBackend Backend { get; } = backend;
    public string Name => Simplified ? "simplified-knn" : "knn";

    /// <summary>The score from the two neighbour sums; 0/0 counts as 1 (equally near on both sides).</summary>
    public static double Ratio(double same, double other) =>
        other > 0 ? same / other : same > 0 ? double.PositiveInfinity : 1.0;

    public double Combine(double same, double other) => Simplified ? same : Ratio(same, other);

    public void Validate(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.RequireClassSizes(K + 1, $"k-NN with k = {K} (k same-label neighbours besides the point itself)");
        if (Simplified) return;
        if (training.Classes < 2) throw new ArgumentException("the k-NN measure needs at least two labels (it divides by other-label distances)");
        var counts = training.ClassCounts();
        for (int c = 0; c < counts.Length; c++)
            if (training.Count - counts[c] < K)
                throw new ArgumentException($"k = {K} is larger than the {training.Count - counts[c]} training examples outside label {c}");
    }

    public IFittedMeasure Fit(LabelledData bag) => new Fitted(this, bag);

    public double[] LeaveOneOutScores(LabelledData bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        int n = bag.Count;
        var scores = new double[n];
        var block = new double[Math.Min(BlockRows, n) * n];
        Span<double> buffer = stackalloc double[K];
        for (int s = 0; s < n; s += BlockRows)
        {
            int rows = Math.Min(BlockRows, n - s);
            Distances.Block(bag.Features, s, rows, bag.Features, n, bag.Dimension, block, Backend);
            for (int r = 0; r < rows; r++)
            {
                int i = s + r;
                var row = block.AsSpan(r * n, n);
                var same = KSmallest.Select(row, bag.Labels, i, bag.Labels[i], true, buffer).Sum;
                var other = Simplified ? 0 : KSmallest.Select(row, bag.Labels, i, bag.Labels[i], false, buffer).Sum;
                scores[i] = Combine(same, other);
            }
        }
        return scores;
    }

    private sealed class Fitted(KnnMeasure measure, LabelledData bag) : IFittedMeasure
    {
        private readonly double[] _row = new double[bag.Count];

        public double Score(ReadOnlySpan<double> x, int y)
        {
            bag.RequireDimension(x);
            Distances.ToRows(x, bag, _row);
            Span<double> buffer = stackalloc double[measure.K];
            var same = KSmallest.Select(_row, bag.Labels, -1, y, true, buffer).Sum;
            var other = measure.Simplified ? 0 : KSmallest.Select(_row, bag.Labels, -1, y, false, buffer).Sum;
            return measure.Combine(same, other);
        }
    }
}

namespace Actors.Learning.Conformal;

/// <summary>
/// Gaussian kernel density nonconformity in the log domain: alpha = -log f_y(x), where
/// f_y(x) = 1 / (n_y h^d (2 pi)^(d/2)) * sum_{j : y_j = y} exp(-||x - x_j||^2 / (2 h^2)) over the bag.
/// Working with log-sum-exp keeps the kernel sums from underflowing in 50 dimensions. An empty class scores +inf.
/// </summary>
public sealed class KdeMeasure(double bandwidth = KdeMeasure.DefaultBandwidth) : INonconformityMeasure
{
    public const double DefaultBandwidth = 1.0;

    public double Bandwidth { get; } = bandwidth > 0 && double.IsFinite(bandwidth)
        ? bandwidth
        : throw new ArgumentOutOfRangeException(nameof(bandwidth), bandwidth, "bandwidth h must be positive");

    public string Name => "kde";

    /// <summary>log K((x - x_j)/h) up to the constant: -||x - x_j||^2 / (2 h^2).</summary>
    public double LogKernel(double squaredDistance) => -squaredDistance / (2 * Bandwidth * Bandwidth);

    /// <summary>The score from the log of the kernel sum over the <paramref name="count"/> same-label examples.</summary>
    public double Score(double logKernelSum, int count, int dimension) =>
        count == 0
            ? double.PositiveInfinity
            : -(logKernelSum - Math.Log(count) - dimension * Math.Log(Bandwidth) - 0.5 * dimension * Math.Log(2 * Math.PI));

    /// <summary>log(exp(a) + exp(b)) without overflow; -inf is the empty sum.</summary>
    public static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        double max = Math.Max(a, b);
        return max + Math.Log(1 + Math.Exp(-Math.Abs(a - b)));
    }

    public void Validate(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.RequireClassSizes(1, "the KDE measure");
    }

    public IFittedMeasure Fit(LabelledData bag) => new Fitted(this, bag);

    /// <summary>Log-sum-exp of the log kernels of one row over the examples with label <paramref name="label"/>, skipping <paramref name="skip"/>.</summary>
    internal (double LogSum, int Count) LogKernelSum(ReadOnlySpan<double> x, LabelledData bag, int label, int skip)
    {
        double max = double.NegativeInfinity;
        int count = 0;
        Span<double> logs = bag.Count <= 4096 ? stackalloc double[bag.Count] : new double[bag.Count];
        for (int j = 0; j < bag.Count; j++)
        {
            if (j == skip || bag.Labels[j] != label) continue;
            double v = LogKernel(Distances.SquaredEuclidean(x, bag.Row(j)));
            logs[count++] = v;
            if (v > max) max = v;
        }
        if (count == 0) return (double.NegativeInfinity, 0);
        double sum = 0;
        for (int t = 0; t < count; t++) sum += Math.Exp(logs[t] - max);
        return (max + Math.Log(sum), count);
    }

    public double[] LeaveOneOutScores(LabelledData bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        var scores = new double[bag.Count];
        for (int i = 0; i < bag.Count; i++)
        {
            var (logSum, count) = LogKernelSum(bag.Row(i), bag, bag.Labels[i], i);
            scores[i] = Score(logSum, count, bag.Dimension);
        }
        return scores;
    }

    private sealed class Fitted(KdeMeasure measure, LabelledData bag) : IFittedMeasure
    {
        public double Score(ReadOnlySpan<double> x, int y)
        {
            bag.RequireDimension(x);
            var (logSum, count) = measure.LogKernelSum(x, bag, y, -1);
            return measure.Score(logSum, count, bag.Dimension);
        }
    }
}

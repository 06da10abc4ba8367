namespace Actors.Learning.Conformal;

/// <summary>
/// Exact full CP for the KDE measure: Fit keeps each training point's log kernel sum over its same-label
/// neighbours; adding (x, y) only adds one kernel term (log-add-exp) and one to the count of the points labelled y.
/// O(n d) for the distances plus O(1) per training point and label.
/// </summary>
public sealed class OptimizedKdeConformalPredictor(double bandwidth = KdeMeasure.DefaultBandwidth) : IConformalPredictor
{
    private readonly KdeMeasure _measure = new(bandwidth);
    private LabelledData? _training;
    private double[] _logSum = [];
    private int[] _classCounts = [];

    public string Name => "optimized-kde";

    public void Fit(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        _measure.Validate(training);
        _logSum = new double[training.Count];
        for (int i = 0; i < training.Count; i++)
            _logSum[i] = _measure.LogKernelSum(training.Row(i), training, training.Labels[i], i).LogSum;
        _classCounts = training.ClassCounts();
        _training = training;
    }

    public double[] PValues(ReadOnlySpan<double> x)
    {
        var training = _training ?? throw new InvalidOperationException("call Fit before PValues");
        training.RequireDimension(x);
        int n = training.Count, dim = training.Dimension;
        var labels = training.Labels;
        var logK = new double[n];
        var whenSame = new double[n];
        var whenOther = new double[n];
        for (int i = 0; i < n; i++)
        {
            logK[i] = _measure.LogKernel(Distances.SquaredEuclidean(x, training.Row(i)));
            int own = _classCounts[labels[i]] - 1;
            whenOther[i] = _measure.Score(_logSum[i], own, dim);
            whenSame[i] = _measure.Score(KdeMeasure.LogAddExp(_logSum[i], logK[i]), own + 1, dim);
        }
        var p = new double[training.Classes];
        for (int y = 0; y < p.Length; y++)
        {
            // The test point's own score: log-sum-exp over the training points labelled y.
            double max = double.NegativeInfinity;
            for (int j = 0; j < n; j++)
                if (labels[j] == y && logK[j] > max) max = logK[j];
            double sum = 0;
            for (int j = 0; j < n; j++)
                if (labels[j] == y) sum += Math.Exp(logK[j] - max);
            double test = _measure.Score(max + Math.Log(sum), _classCounts[y], dim);
            int count = 0;
            for (int i = 0; i < n; i++)
                if (Ties.AtLeast(labels[i] == y ? whenSame[i] : whenOther[i], test)) count++;
            p[y] = (1.0 + count) / (n + 1);
        }
        return p;
    }
}

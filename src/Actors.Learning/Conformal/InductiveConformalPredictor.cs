namespace Actors.Learning.Conformal;

/// <summary>
/// Inductive (split) CP, the cheap baseline: train the measure once on a proper training set, score a held-out
/// calibration set, and compare each test score with the calibration scores: p_y = (1 + #{j : alpha_j &gt;= alpha_x}) / (m + 1).
/// The calibration set is the last <c>calibrationFraction</c> of a seeded shuffle of the training bag.
/// </summary>
public sealed class InductiveConformalPredictor(INonconformityMeasure measure, double calibrationFraction = 0.3, long seed = 1) : IConformalPredictor
{
    private IFittedMeasure? _fitted;
    private double[] _calibration = [];
    private int _dimension;
    private int _classes;

    public INonconformityMeasure Measure { get; } = measure ?? throw new ArgumentNullException(nameof(measure));
    public string Name => "inductive-" + Measure.Name;

    public void Fit(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (calibrationFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(calibrationFraction), calibrationFraction, "must be in (0, 1)");
        int m = (int)Math.Round(training.Count * calibrationFraction);
        if (m < 1 || m >= training.Count)
            throw new ArgumentException($"{training.Count} training examples are too few to split off a calibration set of {calibrationFraction:P0}");
        var order = Enumerable.Range(0, training.Count).ToArray();
        Util.Seeds.Random(seed, "icp-split").Shuffle(order);
        var proper = training.Subset(order[..^m]);
        var calibration = training.Subset(order[^m..]);
        Measure.Validate(proper);
        _fitted = Measure.Fit(proper);
        _calibration = new double[m];
        for (int j = 0; j < m; j++) _calibration[j] = _fitted.Score(calibration.Row(j), calibration.Labels[j]);
        _dimension = training.Dimension;
        _classes = training.Classes;
    }

    public double[] PValues(ReadOnlySpan<double> x)
    {
        var fitted = _fitted ?? throw new InvalidOperationException("call Fit before PValues");
        if (x.Length != _dimension)
            throw new ArgumentException($"mismatched feature dimensions: test point has {x.Length} features, the training bag has {_dimension}");
        var p = new double[_classes];
        for (int y = 0; y < _classes; y++) p[y] = Ties.PValue(_calibration, fitted.Score(x, y));
        return p;
    }
}

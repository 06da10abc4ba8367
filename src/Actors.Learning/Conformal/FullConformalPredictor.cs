namespace Actors.Learning.Conformal;

/// <summary>
/// Standard full (transductive) CP, the baseline: for every candidate label y, append (x, y) to the training bag and
/// recompute every leave-one-out score from scratch; p_y = (1 + #{i : alpha_i &gt;= alpha_x}) / (n + 1).
/// Cost per test point: l * (n + 1) retrainings of the measure.
/// </summary>
public sealed class FullConformalPredictor(INonconformityMeasure measure) : IConformalPredictor
{
    private LabelledData? _training;

    public INonconformityMeasure Measure { get; } = measure ?? throw new ArgumentNullException(nameof(measure));
    public string Name => "standard-" + Measure.Name;

    public void Fit(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        Measure.Validate(training);
        _training = training;
    }

    public double[] PValues(ReadOnlySpan<double> x)
    {
        var training = _training ?? throw new InvalidOperationException("call Fit before PValues");
        training.RequireDimension(x);
        int n = training.Count;
        var p = new double[training.Classes];
        for (int y = 0; y < training.Classes; y++)
        {
            var scores = Measure.LeaveOneOutScores(training.Append(x, y));
            p[y] = Ties.PValue(scores.AsSpan(0, n), scores[n]);
        }
        return p;
    }
}

namespace Actors.Learning.Conformal;

/// <summary>
/// A nonconformity measure A(bag, z): how strange example z = (x, y) looks against a bag. Larger is stranger.
/// </summary>
public interface INonconformityMeasure
{
    string Name { get; }

    /// <summary>Throws a clear <see cref="ArgumentException"/> when the training bag cannot be scored (empty classes, k too large...).</summary>
    void Validate(LabelledData training);

    /// <summary>Trains on <paramref name="bag"/> once; the result scores new examples (inductive CP, the test point's own score).</summary>
    IFittedMeasure Fit(LabelledData bag);

    /// <summary>
    /// alpha_i = A(bag \ z_i, z_i) for every example of the bag, each computed from scratch (retraining without z_i):
    /// the cost standard full CP pays, l * (n + 1) retrainings per test point.
    /// </summary>
    double[] LeaveOneOutScores(LabelledData bag);
}

/// <summary>A measure trained on a fixed bag.</summary>
public interface IFittedMeasure
{
    double Score(ReadOnlySpan<double> x, int y);
}

/// <summary>A conformal predictor for classification: one p-value per label.</summary>
public interface IConformalPredictor
{
    string Name { get; }

    void Fit(LabelledData training);

    /// <summary>p-values for labels 0..Classes-1; the prediction set at eps is { y : p_y &gt; eps }.</summary>
    double[] PValues(ReadOnlySpan<double> x);
}

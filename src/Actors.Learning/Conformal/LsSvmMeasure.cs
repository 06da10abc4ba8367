namespace Actors.Learning.Conformal;

/// <summary>
/// LS-SVM nonconformity with a linear kernel and rho = 1: alpha = -f_y(x), the one-vs-rest decision value of the
/// example's own label (for two labels this is -t f(x) with t = +/-1). See <see cref="Ridge"/> for the model.
/// </summary>
public sealed class LsSvmMeasure(double rho = LsSvmMeasure.DefaultRho) : INonconformityMeasure
{
    public const double DefaultRho = 1.0;

    public double Rho { get; } = rho > 0 && double.IsFinite(rho) ? rho : throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be positive");
    public string Name => "lssvm";

    public void Validate(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.RequireClassSizes(1, "the LS-SVM measure");
        if (training.Classes < 2) throw new ArgumentException("the LS-SVM measure needs at least two labels");
    }

    public IFittedMeasure Fit(LabelledData bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        return new Fitted(Ridge.Train(bag, default, -1, Rho), bag.Dimension);
    }

    /// <summary>From scratch: for each i, build the Gram matrix without z_i, factor it, and predict z_i.</summary>
    public double[] LeaveOneOutScores(LabelledData bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        var scores = new double[bag.Count];
        for (int i = 0; i < bag.Count; i++)
        {
            var model = Ridge.Train(bag, default, i, Rho, bag.Labels[i]);
            scores[i] = -Ridge.Decision(model, bag.Labels[i], bag.Row(i));
        }
        return scores;
    }

    private sealed class Fitted(double[] model, int dimension) : IFittedMeasure
    {
        public double Score(ReadOnlySpan<double> x, int y)
        {
            if (x.Length != dimension)
                throw new ArgumentException($"mismatched feature dimensions: test point has {x.Length} features, the training bag has {dimension}");
            return -Ridge.Decision(model, y, x);
        }
    }
}

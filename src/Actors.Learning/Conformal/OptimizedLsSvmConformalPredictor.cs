namespace Actors.Learning.Conformal;

/// <summary>
/// Exact full CP for the LS-SVM measure by rank-one updates. Fit keeps A^-1 = (X^T X + rho I)^-1, M = A^-1 X^T T,
/// and per training point h_i = x_i^T A^-1 x_i and g_i = x_i^T M_{y_i}. Adding x is a Sherman-Morrison update
/// (u = A^-1 x, s = x^T u): h'_i = h_i - q_i^2 / (1 + s) with q_i = x_i^T u, and the augmented decision value is
/// f'_i = g_i + (t - u^T X^T T_{y_i}) q_i / (1 + s). Removing z_i is the rank-one downdate, which in closed form is the
/// leave-one-out value f_{-i}(x_i) = (f'_i - h'_i) / (1 - h'_i). O(p^2 + n p) per test point, then O(1) per point and label.
/// </summary>
public sealed class OptimizedLsSvmConformalPredictor(double rho = LsSvmMeasure.DefaultRho) : IConformalPredictor
{
    private readonly LsSvmMeasure _measure = new(rho);
    private LabelledData? _training;
    private double[] _inverse = [];   // A^-1, p x p
    private double[] _m = [];         // A^-1 X^T T as [classes, p]
    private double[] _h = [], _g = [];

    public string Name => "optimized-lssvm";

    public void Fit(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        _measure.Validate(training);
        int n = training.Count, p = training.Dimension;
        var a = new double[p * p];
        for (int j = 0; j < n; j++) Ridge.AddOuter(a, training.Row(j), 1);
        for (int t = 0; t < p; t++) a[t * p + t] += _measure.Rho;
        _inverse = Ridge.Inverse(a, p);
        _m = Ridge.Train(training, default, -1, _measure.Rho);
        _h = new double[n];
        _g = new double[n];
        var tmp = new double[p];
        for (int i = 0; i < n; i++)
        {
            var xi = training.Row(i);
            MultiplyInverse(xi, tmp);
            _h[i] = Distances.Dot(xi, tmp);
            _g[i] = Ridge.Decision(_m, training.Labels[i], xi);
        }
        _training = training;
    }

    private void MultiplyInverse(ReadOnlySpan<double> x, Span<double> result)
    {
        int p = x.Length;
        for (int r = 0; r < p; r++) result[r] = Distances.Dot(_inverse.AsSpan(r * p, p), x);
    }

    public double[] PValues(ReadOnlySpan<double> x)
    {
        var training = _training ?? throw new InvalidOperationException("call Fit before PValues");
        training.RequireDimension(x);
        int n = training.Count, p = training.Dimension, classes = training.Classes;
        var labels = training.Labels;
        var u = new double[p];
        MultiplyInverse(x, u);
        double s1 = 1 + Distances.Dot(x, u);
        var r = new double[classes]; // r_c = u^T X^T T_c = x^T M_c: the decision values of x trained without it
        for (int c = 0; c < classes; c++) r[c] = Ridge.Decision(_m, c, x);

        var whenSame = new double[n];
        var whenOther = new double[n];
        for (int i = 0; i < n; i++)
        {
            double q = Distances.Dot(training.Row(i), u);
            double h = _h[i] - q * q / s1;
            double baseF = _g[i] - r[labels[i]] * q / s1;
            double fSame = baseF + q / s1;   // x labelled y_i: target +1 in column y_i
            double fOther = baseF - q / s1;  // x labelled otherwise: target -1
            whenSame[i] = -(fSame - h) / (1 - h);
            whenOther[i] = -(fOther - h) / (1 - h);
        }
        var pv = new double[classes];
        for (int y = 0; y < classes; y++)
        {
            double test = -r[y];
            int count = 0;
            for (int i = 0; i < n; i++)
                if (Ties.AtLeast(labels[i] == y ? whenSame[i] : whenOther[i], test)) count++;
            pv[y] = (1.0 + count) / (n + 1);
        }
        return pv;
    }
}

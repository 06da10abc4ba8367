using Actors.Learning.Conformal;

namespace Actors.Learning.Tests.Conformal;

public class KnnRegressionSpec
{
    private static RegressionData Random(int n, int d, int seed, bool integerTargets)
    {
        var rng = new Random(seed);
        var f = new double[n * d];
        var t = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < d; j++) s += f[i * d + j] = ConformalTestData.Normal(rng);
            t[i] = integerTargets ? Math.Round(s) : s + 0.3 * ConformalTestData.Normal(rng);
        }
        return new RegressionData(f, t, d);
    }

    // 1-D: x = 0, 1, 3, 5 with targets equal to x, k = 1, test x = 2.2 (nearest training point 3, so yhat = 3).
    // Points 0 and 1 keep constant scores 1 -> [2, 4]; point 3 gets x as its nearest neighbour with a = yhat -> every y;
    // point 5 keeps score 2 -> [1, 5]. So p = 1 on [2, 4], 3/5 on [1, 2) and (4, 5], 2/5 outside [1, 5].
    [Fact]
    public void Knn_regression_k1_toy_interval_sweep_matches_hand_computation()
    {
        var training = new RegressionData([0, 1, 3, 5], [0, 1, 3, 5], 1);
        var cp = new KnnRegressionConformalPredictor(1);
        cp.Fit(training);
        var p = cp.Predict([2.2]);
        Assert.Equal(3.0, p.PointPrediction);
        Assert.Equal(1.0, p.PValue(3), 12);
        Assert.Equal(1.0, p.PValue(2), 12);
        Assert.Equal(0.6, p.PValue(1.5), 12);
        Assert.Equal(0.6, p.PValue(5), 12);
        Assert.Equal(0.4, p.PValue(5.01), 12);
        Assert.Equal(0.4, p.PValue(-7), 12);
        Assert.Equal([(1.0, 5.0)], p.PredictionSet(0.5));
        Assert.Equal([(2.0, 4.0)], p.PredictionSet(0.7));
        var standard = new StandardKnnRegressionConformalPredictor(1);
        standard.Fit(training);
        foreach (var y in new[] { -7, 1, 1.5, 2, 3, 4, 5, 5.01 }) Assert.Equal(standard.PValue([2.2], y), p.PValue(y), 12);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]   // integer targets: the k = 1 whole-line branch (a == yhat) happens often
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(5, false)]
    public void Knn_regression_interval_sweep_equals_standard_pvalues_everywhere(int k, bool integerTargets)
    {
        var training = Random(40, 3, 10 + k, integerTargets);
        var cp = new KnnRegressionConformalPredictor(k);
        cp.Fit(training);
        var standard = new StandardKnnRegressionConformalPredictor(k);
        standard.Fit(training);
        for (int t = 0; t < 3; t++)
        {
            var x = ConformalTestData.Point(3, 500 + t);
            var p = cp.Predict(x);
            var points = p.Breakpoints();
            var probes = new List<double> { points[0] - 1, points[^1] + 1 };
            for (int j = 0; j < points.Length; j++)
            {
                probes.Add(points[j]);
                if (j + 1 < points.Length) probes.Add((points[j] + points[j + 1]) / 2);
            }
            foreach (var y in probes)
                Assert.True(Math.Abs(standard.PValue(x, y) - p.PValue(y)) < 1e-12,
                    $"y = {y:R} (breakpoint: {points.Contains(y)}): standard {standard.PValue(x, y)} vs sweep {p.PValue(y)}, yhat {p.PointPrediction:R}");
            // The prediction set holds exactly the probes with p > eps.
            var set = p.PredictionSet(0.2);
            foreach (var y in probes)
                Assert.Equal(p.PValue(y) > 0.2, set.Any(iv => iv.Lo <= y && y <= iv.Hi));
        }
    }
}

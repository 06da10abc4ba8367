using Actors.Learning.Conformal;

namespace Actors.Learning.Tests.Conformal;

/// <summary>
/// A 5-point 1-D dataset: the 4 training points x = 0, 1 (label 0), 3, 5 (label 1) plus the test point. The expected
/// p-values were worked out by hand (the derivations are in the comments), for both the standard and the optimized path.
/// </summary>
public class HandCheckedSpec
{
    private static void AssertBoth(string measure, ConformalOptions options, double x, double[] expected, LabelledData? bag = null)
    {
        var training = bag ?? ConformalTestData.Toy();
        foreach (var predictor in new[] { ConformalPredictors.Standard(measure, options), ConformalPredictors.Optimized(measure, options) })
        {
            predictor.Fit(training);
            var p = predictor.PValues([x]);
            for (int y = 0; y < expected.Length; y++) Assert.Equal(expected[y], p[y], 12);
        }
    }

    // x = 2, k = 1. Label 0: scores (same/other) 1/3, 1/2, 2, 2/3 for the training points, 1/1 for x: p = 2/5.
    // Label 1: 1/2, 1/1, 1/2, 2/4, and x scores 1/1: the tie with x = 1 counts, p = 2/5.
    [Fact]
    public void Knn_k1_toy_pvalues_match_hand_computation() =>
        AssertBoth("knn", new ConformalOptions { K = 1 }, 2.0, [0.4, 0.4]);

    // x = 4.5, k = 1. Label 0: training scores 1, 1, 2, 2 and x scores 3.5: p = 1/5.
    // Label 1: 1, 1, 1.5, 0.5 and x scores 0.5 (tie with x = 5): p = 5/5.
    [Fact]
    public void Simplified_knn_k1_toy_pvalues_match_hand_computation() =>
        AssertBoth("simplified-knn", new ConformalOptions { K = 1 }, 4.5, [0.2, 1.0]);

    // x = 4.5, h = 1, scores -log of the class-mean Gaussian kernel (+ the constant 0.5 log 2 pi).
    // Label 1: training 0.5, 0.5, -log((e^-2 + e^-1.125)/2) = 1.470, -log((e^-2 + e^-0.125)/2) = 0.675; x: 0.505: p = 3/5.
    // Label 0: training 1.193, 1.190, 2, 2; x: -log((e^-10.125 + e^-6.125)/2) = 6.80: p = 1/5.
    [Fact]
    public void Kde_toy_pvalues_match_hand_computation()
    {
        AssertBoth("kde", new ConformalOptions { Bandwidth = 1 }, 4.5, [0.2, 0.6]);
        var fitted = new KdeMeasure(1).Fit(ConformalTestData.Toy());
        double expected = -Math.Log((Math.Exp(-1.125) + Math.Exp(-0.125)) / 2) + 0.5 * Math.Log(2 * Math.PI);
        Assert.Equal(expected, fitted.Score([4.5], 1), 12);
    }

    // Training x = -2, -1 (label 0), 1, 3 (label 1); test x = 2; rho = 1, no bias, 1-D: w = sum x t / (sum x^2 + 1), alpha = -t w x.
    // Label 1: training -0.875, -8/19, -8/19, -18/11; x: -7/16 * 2 = -0.875 (tie): p = 4/5.
    // Label 0: -0.375, -4/19, -4/19, -6/11; x: +0.875: p = 1/5.
    [Fact]
    public void Lssvm_toy_pvalues_match_hand_computation()
    {
        var bag = new LabelledData([-2.0, -1.0, 1.0, 3.0], [0, 0, 1, 1], 1, 2);
        AssertBoth("lssvm", new ConformalOptions(), 2.0, [0.2, 0.8], bag);
        var scores = new LsSvmMeasure().LeaveOneOutScores(bag.Append([2.0], 1));
        double[] expected = [-0.875, -8.0 / 19, -8.0 / 19, -18.0 / 11, -0.875];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], scores[i], 12);
    }

    // The bootstrap pool is random, so the check recomputes the 1-D closed form (w = sum m x t / (sum m x^2 + 1)) by hand
    // over the drawn pool, independently of the Ridge code.
    [Fact]
    public void Bootstrap_toy_pvalues_match_closed_form_over_the_drawn_pool()
    {
        const int models = 7;
        var measure = new BootstrapMeasure(models, 1, seed: 3);
        var pool = measure.DrawPool(5);
        double[] xs = [0, 1, 3, 5, 2];
        var expected = new double[2];
        for (int label = 0; label < 2; label++)
        {
            int[] ys = [0, 0, 1, 1, label];
            var alpha = new double[5];
            for (int i = 0; i < 5; i++)
            {
                double sum = 0;
                int count = 0;
                for (int b = 0; b < models; b++)
                {
                    if (pool[b * 5 + i] != 0) continue;
                    double num = 0, den = 1;
                    for (int j = 0; j < 5; j++)
                    {
                        double t = ys[j] == ys[i] ? 1 : -1; // one-vs-rest target for the column of label y_i
                        num += pool[b * 5 + j] * xs[j] * t;
                        den += pool[b * 5 + j] * xs[j] * xs[j];
                    }
                    sum += -(num / den) * xs[i];
                    count++;
                }
                alpha[i] = count > 0 ? sum / count : 0;
            }
            expected[label] = (1 + alpha[..4].Count(a => Ties.AtLeast(a, alpha[4]))) / 5.0;
        }
        AssertBoth("bootstrap", new ConformalOptions { BootstrapModels = models, Seed = 3 }, 2.0, expected);
    }

    [Fact]
    public void Ties_count_scores_within_relative_tolerance_as_equal()
    {
        Assert.True(Ties.AtLeast(1.0, 1.0 + 5e-13));
        Assert.False(Ties.AtLeast(1.0, 1.0 + 5e-12));
        Assert.True(Ties.AtLeast(double.PositiveInfinity, double.PositiveInfinity));
        Assert.False(Ties.AtLeast(1.0, double.PositiveInfinity));
        Assert.Equal(0.8, Ties.PValue([1.0, 2.0, 0.5, 1.0 - 1e-13], 1.0), 15);
    }
}

using Actors.Learning.Conformal;

namespace Actors.Learning.Tests.Conformal;

/// <summary>Bad input gets a clear error, not a wrong p-value.</summary>
public class BadInputSpec
{
    private static IEnumerable<IConformalPredictor> All(ConformalOptions options) =>
        ConformalPredictors.Measures.SelectMany(m => new[]
        {
            ConformalPredictors.Standard(m, options), ConformalPredictors.Optimized(m, options), ConformalPredictors.Inductive(m, options),
        });

    [Fact]
    public void Mismatched_feature_dimensions_are_rejected()
    {
        var training = ConformalTestData.Blobs(30, 4, 2, 1);
        foreach (var predictor in All(new ConformalOptions { K = 2, BootstrapModels = 3 }))
        {
            predictor.Fit(training);
            var e = Assert.Throws<ArgumentException>(() => predictor.PValues([1.0, 2.0, 3.0]));
            Assert.Contains("mismatched feature dimensions", e.Message, StringComparison.Ordinal);
        }
        Assert.Contains("mismatched feature dimensions",
            Assert.Throws<ArgumentException>(() => new LabelledData(new double[10], [0, 1, 0], 4, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("mismatched feature dimensions",
            Assert.Throws<ArgumentException>(() => LabelledData.FromRows([[1.0, 2.0], [3.0]], [0, 1], 2)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_classes_are_rejected()
    {
        // Three labels declared, label 2 never appears.
        var training = new LabelledData([0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 1, 1, 1, 1], 1, 3);
        foreach (var predictor in All(new ConformalOptions { K = 1, BootstrapModels = 3 }))
        {
            var e = Assert.Throws<ArgumentException>(() => predictor.Fit(training));
            Assert.Contains("empty class", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void K_larger_than_a_class_is_rejected()
    {
        var training = new LabelledData([0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 1, 1], 1, 2);
        foreach (var m in new[] { "knn", "simplified-knn" })
        {
            foreach (var predictor in new[] { ConformalPredictors.Standard(m, new() { K = 2 }), ConformalPredictors.Optimized(m, new() { K = 2 }) })
            {
                var e = Assert.Throws<ArgumentException>(() => predictor.Fit(training));
                Assert.Contains("label 1 has 2 training examples", e.Message, StringComparison.Ordinal);
                Assert.Contains("k = 2", e.Message, StringComparison.Ordinal);
            }
        }
        Assert.Throws<ArgumentException>(() => new KnnRegressionConformalPredictor(5).Fit(new RegressionData([1, 2, 3], [1, 2, 3], 1)));
    }

    [Fact]
    public void Unknown_measure_and_bad_settings_are_rejected()
    {
        Assert.Contains("valid: knn", Assert.Throws<ArgumentException>(() => ConformalPredictors.Optimized("svm", new())).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new KnnMeasure(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KdeMeasure(0));
        Assert.Throws<ArgumentException>(() => PcaFeatures.ParseSpec("pca:x"));
        Assert.Throws<InvalidOperationException>(() => ConformalPredictors.Optimized("knn", new()).PValues([1.0]));
    }
}

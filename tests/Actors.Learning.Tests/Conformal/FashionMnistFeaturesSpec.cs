using Actors.Learning.Conformal;
using Actors.Learning.Data;

namespace Actors.Learning.Tests.Conformal;

/// <summary>Optimized == standard on real features: Fashion-MNIST (synthetic stand-in if not installed), 20-d PCA.</summary>
public class FashionMnistFeaturesSpec
{
    // Loaded once for the class: reading the 60k IDX images dominates otherwise.
    private static readonly Lazy<DataBundle> Bundle = new(() => DatasetLocator.Load("fashion-mnist", null, 1, _ => { }, TimeSpan.Zero));

    public static TheoryData<string, int> MeasuresAndSeeds()
    {
        var data = new TheoryData<string, int>();
        foreach (var m in ConformalPredictors.Measures)
            foreach (var seed in new[] { 1, 2 })
                data.Add(m, seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(MeasuresAndSeeds))]
    public void Optimized_cp_equals_standard_pvalues_on_fashion_mnist_pca_features(string measure, int seed)
    {
        var options = new ConformalOptions { K = 5, Bandwidth = 3, BootstrapModels = 6, Seed = seed };
        var settings = new ConformalExperimentSettings
        {
            Measure = measure, Train = measure == "bootstrap" ? 80 : 150, Test = 3, Features = "pca:20",
            Labels = measure is "lssvm" or "bootstrap" ? 2 : 10, Options = options,
        };
        var (train, test, _) = ConformalExperiment.Prepare(settings, Bundle.Value);
        OptimizedEqualsStandardSpec.AssertSamePValues(measure, options, train, Enumerable.Range(0, test.Count).Select(i => test.Row(i).ToArray()));
    }

    [Fact]
    public void Experiment_reports_coverage_and_speedup_with_matching_pvalues()
    {
        var report = ConformalExperiment.Run(new ConformalExperimentSettings
        {
            Measure = "knn", Train = 200, Test = 20, Features = "pca:10", RunStandard = true, StandardTest = 2,
            Options = new ConformalOptions { K = 5 },
        }, Bundle.Value);
        Assert.Equal(0.0, report.MaxPValueDifference);
        Assert.InRange(report.Coverage10, 0.5, 1.0);
        Assert.True(report.SpeedUp > 1);
        Assert.Contains(report.Lines(), l => l.StartsWith("speed-up", StringComparison.Ordinal));
    }
}

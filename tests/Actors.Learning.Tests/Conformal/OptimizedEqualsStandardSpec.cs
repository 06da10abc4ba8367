using Actors.Learning.Conformal;

namespace Actors.Learning.Tests.Conformal;

/// <summary>The paper's claim: the optimized predictors give the same p-values as standard full CP, on every test point.</summary>
public class OptimizedEqualsStandardSpec
{
    private const double Tolerance = 1e-9;

    internal static void AssertSamePValues(string measure, ConformalOptions options, LabelledData training, IEnumerable<double[]> tests)
    {
        var standard = ConformalPredictors.Standard(measure, options);
        var optimized = ConformalPredictors.Optimized(measure, options);
        standard.Fit(training);
        optimized.Fit(training);
        foreach (var x in tests)
        {
            var ps = standard.PValues(x);
            var po = optimized.PValues(x);
            Assert.Equal(ps.Length, po.Length);
            for (int y = 0; y < ps.Length; y++)
                Assert.True(Math.Abs(ps[y] - po[y]) <= Tolerance, $"{measure}: label {y}: standard {ps[y]} vs optimized {po[y]}");
        }
    }

    public static TheoryData<string, int> MeasuresAndSeeds()
    {
        var data = new TheoryData<string, int>();
        foreach (var m in ConformalPredictors.Measures)
            foreach (var seed in new[] { 1, 2, 3 })
                data.Add(m, seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(MeasuresAndSeeds))]
    public void Optimized_cp_equals_standard_pvalues_on_random_data(string measure, int seed)
    {
        var training = ConformalTestData.Blobs(45, 5, 3, seed);
        var options = new ConformalOptions { K = 3, Bandwidth = 1.3, BootstrapModels = 8, Seed = seed };
        // Test points: fresh ones, a duplicate of a training point (exact ties), and a far outlier.
        var tests = Enumerable.Range(0, 5).Select(t => ConformalTestData.Point(5, 100 * seed + t, t % 2)).ToList();
        tests.Add(training.Row(7).ToArray());
        tests.Add(ConformalTestData.Point(5, 999, 25));
        AssertSamePValues(measure, options, training, tests);
    }

    [Fact]
    public void Optimized_knn_cp_equals_standard_pvalues_with_duplicate_training_points()
    {
        // Rows repeated exactly: many tied scores, decided by the shared tolerance in both paths.
        var basis = ConformalTestData.Blobs(20, 3, 2, 7);
        var training = basis.Subset([.. Enumerable.Range(0, 40).Select(i => i % 20)]);
        foreach (var m in new[] { "knn", "simplified-knn", "kde" })
            AssertSamePValues(m, new ConformalOptions { K = 2 }, training, [basis.Row(0).ToArray(), basis.Row(5).ToArray(), ConformalTestData.Point(3, 4)]);
    }

    [Fact]
    public void Batched_torch_distances_equal_naive_distances()
    {
        var a = ConformalTestData.Blobs(37, 9, 3, 11);
        var b = ConformalTestData.Blobs(53, 9, 3, 12);
        var naive = Distances.Matrix(a, b, DistanceBackend.Naive);
        var batched = Distances.Matrix(a, b, DistanceBackend.Torch);
        for (int i = 0; i < naive.Length; i++)
            Assert.True(Math.Abs(naive[i] - batched[i]) <= 1e-12 * Math.Max(1, naive[i]), $"entry {i}: {naive[i]} vs {batched[i]}");
    }

    [Fact]
    public void Optimized_knn_with_batched_torch_distances_equals_standard_naive_pvalues()
    {
        var training = ConformalTestData.Blobs(60, 6, 3, 5);
        var test = ConformalTestData.Blobs(12, 6, 3, 6);
        var optimized = new OptimizedKnnConformalPredictor(4, false, DistanceBackend.Torch);
        optimized.Fit(training);
        var many = optimized.PValuesMany(test.Features, test.Count);
        var standard = new FullConformalPredictor(new KnnMeasure(4, false, DistanceBackend.Naive));
        standard.Fit(training);
        for (int i = 0; i < test.Count; i++)
        {
            var ps = standard.PValues(test.Row(i));
            for (int y = 0; y < ps.Length; y++) Assert.True(Math.Abs(ps[y] - many[i][y]) <= Tolerance);
        }
    }
}

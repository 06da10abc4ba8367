using Actors.Learning.Conformal;

namespace Actors.Learning.Tests.Conformal;

/// <summary>Validity: on exchangeable data the error rate at eps = 0.1 is 0.1 up to sampling error.</summary>
public class ValiditySpec
{
    private static double ErrorRate(Func<IConformalPredictor> make, int repetitions, int n, int perRound, double eps)
    {
        int errors = 0, total = 0;
        for (int r = 0; r < repetitions; r++)
        {
            // One exchangeable draw per repetition: the first n are the training bag, the rest are test points.
            var all = ConformalTestData.Blobs(n + perRound, 4, 3, 1000 + r, spread: 1.0);
            var training = all.Subset([.. Enumerable.Range(0, n)]);
            var predictor = make();
            predictor.Fit(training);
            for (int t = n; t < n + perRound; t++)
            {
                if (predictor.PValues(all.Row(t))[all.Labels[t]] <= eps) errors++;
                total++;
            }
        }
        return (double)errors / total;
    }

    // 120 repetitions x 5 test points: the binomial standard deviation is ~0.012; the bounds are ~3.5 sigma.
    [Theory]
    [InlineData("knn")]
    [InlineData("kde")]
    [InlineData("lssvm")]
    public void Full_cp_error_rate_at_eps_0_1_is_within_sampling_error(string measure)
    {
        var rate = ErrorRate(() => ConformalPredictors.Optimized(measure, new ConformalOptions { K = 3 }), 120, 49, 5, 0.1);
        Assert.InRange(rate, 0.06, 0.14);
    }

    [Fact]
    public void Inductive_cp_error_rate_at_eps_0_1_is_within_sampling_error()
    {
        var rate = ErrorRate(() => ConformalPredictors.Inductive("knn", new ConformalOptions { K = 3 }, 0.4), 120, 49, 5, 0.1);
        Assert.InRange(rate, 0.06, 0.14);
    }
}

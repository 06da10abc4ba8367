using Actors.Learning.Aggregation;

namespace Actors.Learning.Tests.Robustness;

public class AggregatorFactorySpec
{
    private static string Error(AggregatorSettings s, int n, int f) =>
        Assert.Throws<ArgumentException>(() => AggregatorFactory.Create(s, n, f)).Message;

    [Fact]
    public void Names_map_to_the_rules_with_their_defaults()
    {
        Assert.IsType<Mean>(AggregatorFactory.Create(new AggregatorSettings("mean"), 25, 5));
        Assert.IsType<CoordinateWiseMedian>(AggregatorFactory.Create(new AggregatorSettings("median"), 25, 5));
        Assert.Equal(5, Assert.IsType<TrimmedMean>(AggregatorFactory.Create(new AggregatorSettings("trimmed-mean"), 25, 5)).Trim);
        Assert.Equal(3, Assert.IsType<Krum>(AggregatorFactory.Create(new AggregatorSettings("krum", M: 3), 25, 5)).M);
        var rfa = Assert.IsType<Rfa>(AggregatorFactory.Create(new AggregatorSettings("rfa"), 25, 5));
        Assert.Equal((8, 0.1), (rfa.Iterations, rfa.Nu));
        using var cc = Assert.IsType<CenteredClipping>(AggregatorFactory.Create(new AggregatorSettings("cclip"), 25, 5));
        Assert.Equal((10.0, 3, false), (cc.Tau, cc.Iterations, cc.DivideByExpected));
        var b = Assert.IsType<Bucketing>(AggregatorFactory.Create(new AggregatorSettings("cclip", Tau: 100, Iterations: 1, BucketSize: 2), 25, 5));
        Assert.Equal(2, b.BucketSize);
    }

    [Fact]
    public void Krum_needs_n_greater_than_2f_plus_2()
    {
        var m = Error(new AggregatorSettings("krum"), 12, 5);
        Assert.Contains("aggregator.type = krum", m);
        Assert.Contains("n > 2f + 2", m);
        AggregatorFactory.Create(new AggregatorSettings("krum"), 13, 5);
        // With buckets of 2, n = ceil(24/2) = 12 <= 12.
        Assert.Contains("ceil(24/2) = 12", Error(new AggregatorSettings("krum", BucketSize: 2), 24, 5));
        AggregatorFactory.Create(new AggregatorSettings("krum", BucketSize: 2), 25, 5);
        Assert.Contains("aggregator.m = 30", Error(new AggregatorSettings("krum", M: 30), 25, 5));
    }

    [Fact]
    public void Trimmed_mean_needs_2_trim_below_n_and_every_robust_rule_f_below_half_n()
    {
        Assert.Contains("aggregator.trim = 3", Error(new AggregatorSettings("trimmed-mean", Trim: 3), 6, 1));
        foreach (var type in new[] { "median", "trimmed-mean", "krum", "rfa", "cclip" })
        {
            var m = Error(new AggregatorSettings(type), 10, 5);
            Assert.Contains($"aggregator.type = {type}", m);
            Assert.Contains("f < n/2", m);
        }
        AggregatorFactory.Create(new AggregatorSettings("mean"), 10, 5);
    }

    [Fact]
    public void Unknown_names_and_bad_settings_list_the_valid_choices()
    {
        var m = Error(new AggregatorSettings("geomed"), 10, 1);
        Assert.Contains("'geomed'", m);
        Assert.Contains("mean, median, trimmed-mean, krum, rfa, cclip", m);
        Assert.Contains("aggregator.bucket-size = 1", Error(new AggregatorSettings("rfa", BucketSize: 1), 10, 1));
        Assert.Contains("aggregator.tau = -1", Error(new AggregatorSettings("cclip", Tau: -1), 10, 1));
        Assert.Contains("aggregator.iterations = 0", Error(new AggregatorSettings("cclip", Iterations: 0), 10, 1));
    }
}

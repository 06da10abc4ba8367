using Actors.LoadTests.Compression;

namespace Actors.Cli.Tests.Compression;

/// <summary>The trade-off report's arithmetic: time to target, the T(B) = a + b/B fit and the crossover bandwidth.</summary>
public sealed class CompressionTradeoffSpec
{
    [Fact]
    public void The_fit_recovers_a_plus_b_over_bandwidth_and_the_crossover_is_where_the_lines_meet()
    {
        (double, double)[] none = [(100, 3 + 1000 / 100.0), (1000, 3 + 1000 / 1000.0), (10000, 3 + 1000 / 10000.0)];
        (double, double)[] compressed = [(100, 5 + 100 / 100.0), (1000, 5 + 100 / 1000.0), (10000, 5 + 100 / 10000.0)];
        var fit = CompressionTradeoff.Fit(compressed);
        Assert.Equal(5, fit.A, 9);
        Assert.Equal(100, fit.B, 9);
        Assert.Equal(0, fit.Residual, 9);
        // 5 + 100/B < 3 + 1000/B  <=>  B < 450 Mb/s
        Assert.Equal("below 450 Mb/s", CompressionTradeoff.Crossover(compressed, none));
        Assert.Equal("at every bandwidth", CompressionTradeoff.Crossover([(100, 2 + 1.0), (1000, 2 + 0.1)], none));
        Assert.Equal("never", CompressionTradeoff.Crossover([(100, 4 + 20.0), (1000, 4 + 2.0)], none));
        Assert.Equal("not reached at enough bandwidths", CompressionTradeoff.Crossover([(100, 1.0)], none));
    }

    [Fact]
    public void Time_to_target_is_the_first_evaluation_at_or_above_it_and_null_when_never()
    {
        var cell = new CompressionTradeoff.Cell("mlp", "topk", "1%", 100, 0.8, 1, 1, 3, [(0, 0.1), (1.5, 0.79), (2.5, 0.8), (3, 0.81)], 0, 0, 0, 0, 0);
        Assert.Equal(2.5, CompressionTradeoff.TimeToTarget(cell, 0.8));
        Assert.Null(CompressionTradeoff.TimeToTarget(cell, 0.9));
    }
}

using Actors.Learning.Compression;
using TorchSharp;

namespace Actors.Learning.Tests.Compression;

/// <summary>E[D(C(x))] = x, checked per coordinate with a fixed seed: |mean - x| within 5 standard errors.</summary>
public class UnbiasednessSpec
{
    private const int Draws = 3000;

    private static (double[] Mean, double[] Var) Moments(ICompressor compressor, torch.Tensor x, Func<int, CompressionContext> ctx)
    {
        long d = x.shape[0];
        var sum = new double[d];
        var sq = new double[d];
        for (int t = 0; t < Draws; t++)
        {
            using var scope = torch.NewDisposeScope();
            using var c = compressor.Compress(x, ctx(t));
            var y = compressor.Decompress(c).to(torch.ScalarType.Float64).data<double>().ToArray();
            for (int i = 0; i < d; i++) { sum[i] += y[i]; sq[i] += y[i] * y[i]; }
        }
        var mean = sum.Select(s => s / Draws).ToArray();
        var variance = sq.Select((s, i) => s / Draws - mean[i] * mean[i]).ToArray();
        return (mean, variance);
    }

    private static void AssertMeanIs(double[] expected, (double[] Mean, double[] Var) m)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double se = Math.Sqrt(m.Var[i] / Draws);
            Assert.True(Math.Abs(m.Mean[i] - expected[i]) <= 5 * se + 1e-9,
                $"coordinate {i}: mean {m.Mean[i]:G6}, expected {expected[i]:G6} (standard error {se:G3})");
        }
    }

    private static double[] Vector() => [1.5, -2, 0.25, 3, -0.75, 0, 1, -1, 2.5, 0.5, -3, 0.1];

    [Fact]
    public void Unbiased_randk_is_unbiased_over_steps()
    {
        var v = Vector();
        using var x = torch.tensor(v);
        var m = Moments(new RandK(0.25, RandKScaling.Unbiased), x, t => new CompressionContext(t, 11));
        AssertMeanIs(v, m);
    }

    [Fact]
    public void Contractive_randk_has_mean_k_over_d_times_x()
    {
        var v = Vector();
        using var x = torch.tensor(v);
        var m = Moments(new RandK(0.25, RandKScaling.Contractive), x, t => new CompressionContext(t, 11));
        AssertMeanIs(v.Select(a => a * 3 / 12).ToArray(), m);
    }

    [Fact]
    public void Qsgd_is_unbiased_over_draws()
    {
        var v = Vector();
        using var x = torch.tensor(v);
        using var qsgd = new Qsgd(2, seed: 5);
        var m = Moments(qsgd, x, t => new CompressionContext(t, 11));
        AssertMeanIs(v, m);
        // And it really is random: a coordinate between levels has positive variance.
        Assert.True(m.Var[0] > 0);
    }
}

using Actors.Learning.Aggregation;
using Actors.Learning.Optim;
using Actors.Learning.Training;
using TorchSharp;

namespace Actors.Learning.Tests.Optim;

/// <summary>The exact rates of ALGORITHMS.md section 9 on the bilinear game min_x max_y x*y (float64, lr 0.3, k = 6).</summary>
public class LookaheadSpec
{
    private const double Lr = 0.3;

    /// <summary>The game's vector field for a descent step on both players: (d/dx xy, -d/dy xy) = (y, -x).</summary>
    private static torch.Tensor Field(torch.Tensor z) => torch.stack([z[1], z[0].neg()]);

    private static double Norm(torch.Tensor z) => z.norm().item<double>();

    /// <summary>Runs GDA (plain SGD on the field) for <paramref name="steps"/>, with lookahead when given; returns the norm after each step.</summary>
    private static double[] Run(int steps, Lookahead? lookahead)
    {
        using var z = torch.tensor(new[] { 1.0, 1.0 }, dtype: torch.ScalarType.Float64);
        lookahead?.Start(z);
        var norms = new double[steps];
        for (int t = 0; t < steps; t++)
        {
            using (var v = Field(z)) z.sub_(v.mul(Lr));
            lookahead?.AfterStep(z);
            norms[t] = Norm(z);
        }
        return norms;
    }

    [Fact]
    public void Plain_gda_spirals_out_by_1_044_per_step()
    {
        var norms = Run(12, null);
        for (int t = 1; t < norms.Length; t++) Assert.Equal(Math.Sqrt(1 + Lr * Lr), norms[t] / norms[t - 1], 9); // 1.04403
        Assert.Equal(1.044, norms[5] / norms[4], 3);
    }

    [Fact]
    public void Lookahead_minmax_with_alpha_one_half_shrinks_by_0_745_per_cycle()
    {
        using var lookahead = new Lookahead(6, 0.5);
        var norms = Run(60, lookahead);
        double rate = Math.Pow(norms[59] / norms[29], 1.0 / 5); // five cycles of k = 6 steps, after the transient
        Assert.Equal(0.745, rate, 2);
        Assert.True(norms[59] < 0.1 * norms[5], "it converges to the equilibrium (0, 0)");
    }

    [Fact]
    public void Lookahead_minmax_with_alpha_0_8_still_diverges_by_1_020_per_cycle()
    {
        using var lookahead = new Lookahead(6, 0.8);
        var norms = Run(120, lookahead);
        double rate = Math.Pow(norms[119] / norms[59], 1.0 / 10);
        Assert.Equal(1.020, rate, 3);
    }

    [Fact]
    public void Lookahead_leaves_the_fast_weights_alone_between_syncs_and_pulls_both_players_together()
    {
        using var lookahead = new Lookahead(2, 0.5);
        using var z = torch.tensor(new[] { 0.0, 0.0 }, dtype: torch.ScalarType.Float64);
        lookahead.Start(z);
        z.add_(1.0);
        Assert.False(lookahead.AfterStep(z));
        Assert.Equal([1.0, 1.0], z.data<double>().ToArray());
        z.add_(1.0);
        Assert.True(lookahead.AfterStep(z));
        Assert.Equal([1.0, 1.0], z.data<double>().ToArray()); // halfway from the slow (0, 0) to the fast (2, 2), both coordinates
        Assert.Equal([1.0, 1.0], lookahead.Slow!.data<double>().ToArray());
    }

    [Fact]
    public void Cosine_schedule_decays_the_server_step_from_lr_to_zero()
    {
        var s = new LearningRateSchedule(0.1, LearningRateShape.Cosine, TotalSteps: 100);
        Assert.Equal(0.1, s.At(0), 12);
        Assert.Equal(0.05, s.At(50), 12);
        Assert.Equal(0, s.At(100), 12);
        Assert.Equal(0.1, new LearningRateSchedule(0.1).At(77));
        using var server = new ServerModel(torch.zeros(1), new Mean(), lr: 1, schedule: new LearningRateSchedule(1, LearningRateShape.Cosine, TotalSteps: 2));
        using var g = torch.tensor(new[] { -1f });
        server.Step([g], new AggregationContext(1, 0, 0, new Random(1))); // lr 1 at version 0
        server.Step([g], new AggregationContext(1, 0, 1, new Random(1))); // lr 0.5 at version 1
        Assert.Equal(1.5f, server.Parameters.item<float>(), 6);
    }

    [Fact]
    public void Server_with_lookahead_applies_it_after_its_optimizer_step()
    {
        using var server = new ServerModel(torch.zeros(1), new Mean(), lr: 1, lookahead: new Lookahead(2, 0.5));
        using var g = torch.tensor(new[] { -1f });
        server.Step([g], new AggregationContext(1, 0, 0, new Random(1)));
        Assert.Equal(1f, server.Parameters.item<float>());
        server.Step([g], new AggregationContext(1, 0, 1, new Random(1)));
        Assert.Equal(1f, server.Parameters.item<float>()); // fast 2, slow 0 -> 1
    }
}

using Actors.Learning.Problems;
using TorchSharp;

namespace Actors.Learning.Tests.Gossip;

public class LogisticRegressionSpec
{
    [Fact]
    public void Optimum_is_found_to_a_gradient_norm_below_1e_11_and_gradients_match_finite_differences()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        Assert.True(problem.OptimumGradientNorm < 1e-11, $"||grad f(x*)|| = {problem.OptimumGradientNorm:E2}");
        Assert.Equal(0, problem.Suboptimality(problem.Optimum), 14);

        using var gen = new torch.Generator(1);
        using var x = torch.randn(problem.Dimension, torch.float64, generator: gen);
        using var g = torch.zeros(problem.Dimension, torch.float64);
        for (int i = 0; i < problem.Nodes; i++)
        {
            using var gi = problem.LocalGradient(i, x, 0);
            g.add_(gi);
        }
        g.div_(problem.Nodes);
        for (int k = 0; k < problem.Dimension; k += 7)
        {
            using var e = torch.zeros(problem.Dimension, torch.float64);
            e[k] = 1e-6;
            using var xp = x.add(e);
            using var xm = x.sub(e);
            double numeric = (problem.Objective(xp) - problem.Objective(xm)) / 2e-6;
            Assert.Equal(numeric, g[k].item<double>(), 6);
        }
        Assert.True(problem.Objective(x) > problem.OptimalValue);
    }

    [Fact]
    public void The_optimum_predicts_held_out_data_better_than_chance()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var (x, y) = ConvexSyntheticData.GenerateTest(new ConvexSyntheticSpec(SamplesPerNode: 50, Features: 9, Classes: 2, Heterogeneity: 0.5), 2000, seed: 3);
        using (x)
        using (y)
        {
            var (loss, accuracy) = problem.Evaluate(problem.Optimum, x, y);
            using var zero = problem.InitialModel();
            var (zeroLoss, _) = problem.Evaluate(zero, x, y);
            Assert.InRange(accuracy, 0.6, 1.0);
            Assert.True(loss < zeroLoss, $"loss at x* {loss} vs at 0 {zeroLoss}");
        }
    }

    [Fact]
    public void Minibatch_gradients_are_seeded_and_float32_models_stay_float32()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float32, batchSize: 8);
        using var x = problem.InitialModel();
        Assert.Equal(torch.ScalarType.Float32, x.dtype);
        using var a = problem.LocalGradient(2, x, 5);
        using var b = problem.LocalGradient(2, x, 5);
        using var c = problem.LocalGradient(2, x, 6);
        Assert.Equal(torch.ScalarType.Float32, a.dtype);
        Assert.True(GossipFixtures.Same(a, b));
        Assert.False(GossipFixtures.Same(a, c));
    }
}

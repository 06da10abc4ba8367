using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Problems;

/// <summary>
/// Shape of the generated well-conditioned classification problem for the convex benchmark (`data.dataset = synthetic`
/// with `model.type = logreg` in gossip mode). <paramref name="Heterogeneity"/> shifts each node's feature mean, so
/// local optima differ (what makes D-SGD and CHOCO plateau with a constant step).
/// </summary>
public sealed record ConvexSyntheticSpec(int SamplesPerNode = 100, int Features = 10, int Classes = 2, double Heterogeneity = 1.0, double TeacherScale = 1.0);

/// <summary>
/// Standard normal features plus a per-node mean shift, labels sampled from a random softmax teacher (so classes overlap
/// and the L2-regularized problem is well conditioned). Deterministic in the seed.
/// </summary>
public static class ConvexSyntheticData
{
    /// <summary>One (features [N, F] float64, labels [N] int64) pair per node.</summary>
    public static (torch.Tensor Features, torch.Tensor Labels)[] Generate(ConvexSyntheticSpec spec, int nodes, long seed)
    {
        if (spec.SamplesPerNode <= 0 || spec.Features <= 0 || spec.Classes < 2)
            throw new ArgumentException($"synthetic convex data needs samples > 0, features > 0 and classes >= 2 (got {spec})");
        using var gen = Util.TorchSetup.Generator(Seeds.Derive(seed, "convex-synthetic"));
        using var teacher = torch.randn(spec.Classes, spec.Features, torch.float64, generator: gen).MulBy_(spec.TeacherScale / Math.Sqrt(spec.Features));
        var shards = new (torch.Tensor, torch.Tensor)[nodes];
        for (int i = 0; i < nodes; i++)
        {
            using var scope = torch.NewDisposeScope();
            var shift = torch.randn(1, spec.Features, torch.float64, generator: gen).MulBy_(spec.Heterogeneity);
            var x = torch.randn(spec.SamplesPerNode, spec.Features, torch.float64, generator: gen).add_(shift);
            var probs = torch.softmax(x.matmul(teacher.t()), 1);
            var y = torch.multinomial(probs, 1, generator: gen).reshape(-1);
            shards[i] = (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
        }
        return shards;
    }

    /// <summary>
    /// A held-out set from the same teacher (features around the mean node shift of zero), for the average model's
    /// test accuracy; drawn from its own stream, so asking for it does not change the training shards.
    /// </summary>
    public static (torch.Tensor Features, torch.Tensor Labels) GenerateTest(ConvexSyntheticSpec spec, int count, long seed)
    {
        using var teacherGen = Util.TorchSetup.Generator(Seeds.Derive(seed, "convex-synthetic"));
        using var teacher = torch.randn(spec.Classes, spec.Features, torch.float64, generator: teacherGen).MulBy_(spec.TeacherScale / Math.Sqrt(spec.Features));
        using var gen = Util.TorchSetup.Generator(Seeds.Derive(seed, "convex-synthetic-test"));
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(count, spec.Features, torch.float64, generator: gen);
        var y = torch.multinomial(torch.softmax(x.matmul(teacher.t()), 1), 1, generator: gen).reshape(-1);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }
}

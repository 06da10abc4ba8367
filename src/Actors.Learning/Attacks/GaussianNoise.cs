using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>Gaussian: send N(0, sigma^2 I) noise of the update's length (seeded).</summary>
public sealed class GaussianNoise(double sigma = 1) : IAttack
{
    public double Sigma { get; } = sigma > 0 ? sigma : throw new ArgumentException($"attack.sigma = {sigma} is invalid: must be > 0", nameof(sigma));
    public string Name => "gaussian";
    public bool NeedsHonestVectors => false;

    public torch.Tensor Craft(AttackContext context)
    {
        using var gen = context.NewGenerator();
        using var scope = torch.NewDisposeScope();
        return torch.randn(context.Own.shape[0], generator: gen, dtype: context.Own.dtype).MulBy_(Sigma).MoveToOuterDisposeScope();
    }
}

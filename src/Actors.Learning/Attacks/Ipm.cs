using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>IPM, inner-product manipulation (Xie et al. 2019): send -eps * mean(honest). eps = 0.1 (or 100).</summary>
public sealed class Ipm(double eps = 0.1) : IAttack
{
    public double Eps { get; } = eps > 0 ? eps : throw new ArgumentException($"attack.eps = {eps} is invalid: must be > 0", nameof(eps));
    public string Name => "ipm";
    public bool NeedsHonestVectors => true;
    public bool SameForAllColluders => true;

    public torch.Tensor Craft(AttackContext context)
    {
        using var scope = torch.NewDisposeScope();
        return context.StackHonest(Name).mean([0L]).MulBy_(-Eps).MoveToOuterDisposeScope();
    }
}

using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>
/// ALIE, "a little is enough" (Baruch et al. 2019): send mu - z * sigma, the coordinate-wise mean and (unbiased)
/// standard deviation of the honest vectors. Unless given, z = Phi^-1((n - f - s)/(n - f)) with s = floor(n/2 + 1) - f.
/// </summary>
public sealed class Alie : IAttack
{
    public Alie(double z) => Z = double.IsFinite(z) ? z : throw new ArgumentException($"attack.z = {z} is invalid: must be finite", nameof(z));

    public double Z { get; }
    public string Name => "alie";
    public bool NeedsHonestVectors => true;
    public bool SameForAllColluders => true;

    /// <summary>The paper's z for n workers of which f are Byzantine (n = 25, f = 5: Phi^-1(0.6) = 0.2533).</summary>
    public static double DefaultZ(int n, int f)
    {
        int s = (int)Math.Floor(n / 2.0 + 1) - f;
        double p = (double)(n - f - s) / (n - f);
        if (n - f <= 0 || !(p > 0 && p < 1))
        {
            throw new ArgumentException($"attack.type = alie: z cannot be derived for n = {n}, f = {f} " +
                $"(Phi^-1((n - f - s)/(n - f)) with s = floor(n/2 + 1) - f needs that ratio in (0, 1), got {p}); set attack.z");
        }
        return NormalDistribution.InverseCdf(p);
    }

    public torch.Tensor Craft(AttackContext context)
    {
        using var scope = torch.NewDisposeScope();
        var h = context.StackHonest(Name);
        var mu = h.mean([0L]);
        if (h.shape[0] < 2) return mu.MoveToOuterDisposeScope();
        // Two-pass std over the k rows: libtorch's std(dim 0) is a scalar Welford loop per column, ~10x slower
        // than these vectorized row operations on a [k, d] matrix with small k.
        var centered = h.sub(mu);
        var sigma = centered.mul_(centered).sum([0L]).DivBy_(h.shape[0] - 1).sqrt_();
        return mu.sub_(sigma.MulBy_(Z)).MoveToOuterDisposeScope();
    }
}

using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>
/// Mimic (Karimireddy, He, Jaggi, ICLR 2022): at the first round, pick the honest worker best aligned with the top
/// principal direction of the honest vectors (one power-iteration step u = C z of their covariance from a seeded
/// random z; the worker with the largest |(x_i - mu).u|, lowest index on ties); from then on send a copy of that
/// worker's vector every round. Over-represents one (non-iid) worker's data.
/// </summary>
public sealed class Mimic : IAttack
{
    public string Name => "mimic";
    public bool NeedsHonestVectors => true;

    /// <summary>Position in <see cref="AttackContext.Honest"/> of the mimicked worker, once chosen.</summary>
    public int? Target { get; private set; }

    public torch.Tensor Craft(AttackContext context)
    {
        using var scope = torch.NewDisposeScope();
        if (Target is null)
        {
            var x = context.StackHonest(Name);
            var mu = x.mean([0L]);
            using var gen = context.NewGenerator();
            var z = torch.randn(x.shape[1], generator: gen, dtype: x.dtype);
            // u = sum_i (x_i - mu) <x_i - mu, z>, without forming x_i - mu.
            var a = x.mv(z).sub_(mu.dot(z));
            var u = a.matmul(x).sub_(mu.mul(a.sum()));
            var proj = x.mv(u).sub_(mu.dot(u)).abs_().to(torch.float64).ToHostArray<double>();
            int best = 0;
            for (int i = 1; i < proj.Length; i++) if (proj[i] > proj[best]) best = i;
            Target = best;
        }
        if (Target.Value >= context.Honest.Count)
        {
            throw new InvalidOperationException($"mimic target {Target} is not among the {context.Honest.Count} honest vectors of round {context.Round}");
        }
        return context.Honest[Target.Value].detach().clone().MoveToOuterDisposeScope();
    }
}

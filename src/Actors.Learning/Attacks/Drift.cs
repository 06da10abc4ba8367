using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>
/// Drift (time-coupled): send base + eps * ||base|| * u, where base is the mean of the visible honest vectors (or the
/// worker's own vector) and u is one fixed unit direction drawn (seeded) at the first round. Each round looks benign
/// (within eps of an honest vector), but the bias points the same way every round and accumulates in the model.
/// </summary>
public sealed class Drift(double eps = 0.1) : IAttack, IDisposable
{
    private torch.Tensor? _direction;

    public double Eps { get; } = eps > 0 ? eps : throw new ArgumentException($"attack.eps = {eps} is invalid: must be > 0", nameof(eps));
    public string Name => "drift";
    public bool NeedsHonestVectors => false;

    /// <summary>A copy of the fixed unit direction, once drawn.</summary>
    public torch.Tensor? Direction => _direction?.clone();

    public torch.Tensor Craft(AttackContext context)
    {
        using var scope = torch.NewDisposeScope();
        var b = context.HonestMeanOrOwn();
        if (_direction is null || _direction.shape[0] != b.shape[0])
        {
            _direction?.Dispose();
            using var gen = context.NewGenerator();
            var u = torch.randn(b.shape[0], generator: gen, dtype: b.dtype);
            _direction = u.div_(u.norm()).DetachFromDisposeScope();
        }
        double scale = Eps * b.norm().to(torch.float64).item<double>();
        return b.AddScaled_(_direction, scale).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _direction?.Dispose();
        _direction = null;
    }
}

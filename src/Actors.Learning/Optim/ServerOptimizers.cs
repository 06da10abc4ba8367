using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Optim;

/// <summary>
/// A server optimizer other than SGD (which <see cref="Training.ServerModel"/> does itself, with or without momentum): it
/// moves x along a descent direction, the aggregate of the workers' vectors. For a game that vector holds both players'
/// gradients of their own losses, so a descent step on it is simultaneous gradient descent-ascent.
/// </summary>
public interface IServerOptimizer : IDisposable
{
    /// <summary>Moves <paramref name="x"/> in place; true when a whole step of the method is done (extragradient takes two calls).</summary>
    bool Step(torch.Tensor x, torch.Tensor direction, double lr, double weight);
}

/// <summary>Adam (Kingma and Ba 2015) on the aggregate, bias-corrected; per coordinate, so each player gets its own moments.</summary>
public sealed class Adam(double beta1, double beta2, double eps = 1e-8) : IServerOptimizer
{
    private torch.Tensor? _m, _v;
    private long _t;

    public bool Step(torch.Tensor x, torch.Tensor direction, double lr, double weight)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(direction);
        using var scope = torch.NewDisposeScope();
        _m ??= torch.zeros_like(x).DetachFromDisposeScope();
        _v ??= torch.zeros_like(x).DetachFromDisposeScope();
        _t++;
        // Explicit Scalars: an implicit double -> Scalar temporary can be finalized during the native call (ScalarOps).
        double m1 = 1 - Math.Pow(beta1, _t), v1 = 1 - Math.Pow(beta2, _t);
        using var b1 = beta1.ToScalar();
        using var g1 = (1 - beta1).ToScalar();
        using var b2 = beta2.ToScalar();
        using var g2 = (1 - beta2).ToScalar();
        using var vScale = v1.ToScalar();
        using var epsilon = eps.ToScalar();
        using var step = (-lr * weight / m1).ToScalar();
        _m.mul_(b1).add_(direction, alpha: g1);
        _v.mul_(b2).addcmul_(direction, direction, value: g2);
        var denominator = _v.div(vScale).sqrt_().add_(epsilon);
        x.addcdiv_(_m, denominator, value: step);
        return true;
    }

    public void Dispose()
    {
        _m?.Dispose();
        _v?.Dispose();
    }
}

/// <summary>
/// Extragradient (Korpelevich 1976): from x, extrapolate <c>x_half = x - lr g(x)</c>, then update from the same x with the
/// gradient there, <c>x &lt;- x - lr g(x_half)</c>. Through the parameter server each half is one model version: workers
/// compute g at the extrapolated model in the second round. Converges on bilinear games where GDA spirals out.
/// </summary>
public sealed class Extragradient : IServerOptimizer
{
    private torch.Tensor? _anchor;

    public bool Step(torch.Tensor x, torch.Tensor direction, double lr, double weight)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(direction);
        if (_anchor is null)
        {
            _anchor = x.detach().clone().DetachFromDisposeScope();
            x.AddScaled_(direction, -lr * weight);
            return false;
        }
        x.copy_(_anchor).AddScaled_(direction, -lr * weight);
        _anchor.Dispose();
        _anchor = null;
        return true;
    }

    public void Dispose() => _anchor?.Dispose();
}

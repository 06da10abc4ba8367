using TorchSharp;


namespace Actors.Learning.Optim;

/// <summary>How worker momentum accumulates (`optimizer.momentum-form`).</summary>
public enum MomentumForm
{
    /// <summary>m = beta m + g (the paper's form; first step m = g).</summary>
    HeavyBall,
    /// <summary>m = beta m + (1 - beta) g (rescales the update, hence tau, by 1/(1-beta)).</summary>
    Ema,
}

/// <summary>
/// Worker momentum ("Learning from History", ICML 2021): each worker sends m_i instead of g_i, so that the
/// server aggregates lower-variance vectors. State is the momentum buffer; beta = 0 sends raw gradients.
/// </summary>
public sealed class WorkerMomentum(double beta, MomentumForm form = MomentumForm.HeavyBall) : IDisposable
{
    // Long-lived Scalars: an implicit float->Scalar temporary can be finalized by the GC during the native call.
    private readonly Scalar _beta = ((float)beta).ToScalar();
    private readonly Scalar _gradientWeight = (form == MomentumForm.Ema ? (float)(1 - beta) : 1f).ToScalar();
    private torch.Tensor? _m;

    public double Beta { get; } = beta;

    /// <summary>The momentum buffer (null before the first step); read only, owned by this instance.</summary>
    public torch.Tensor? Buffer => _m;

    /// <summary>Advances the momentum with gradient g and returns a new tensor holding m (the caller owns it).</summary>
    public torch.Tensor Step(torch.Tensor g)
    {
        if (Beta == 0) return g.clone();
        if (_m is null)
        {
            // State outlives any caller's dispose scope.
            _m = g.mul(_gradientWeight).DetachFromDisposeScope();
        }
        else
        {
            _m.mul_(_beta).add_(g, alpha: _gradientWeight);
        }
        return _m.clone();
    }

    /// <summary>Sets the buffer (checkpoint restore); all zeros means "not started" for the first-step rule m = g.</summary>
    public void Restore(torch.Tensor m)
    {
        ArgumentNullException.ThrowIfNull(m);
        _m?.Dispose();
        using var scope = torch.NewDisposeScope();
        bool started = m.count_nonzero().item<long>() > 0;
        _m = started ? m.detach().clone().DetachFromDisposeScope() : null;
    }

    public void Dispose()
    {
        _m?.Dispose();
        _beta.Dispose();
        _gradientWeight.Dispose();
    }
}

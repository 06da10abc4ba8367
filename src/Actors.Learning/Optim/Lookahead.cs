using TorchSharp;

namespace Actors.Learning.Optim;

/// <summary>
/// Lookahead around any base optimizer (Zhang et al., NeurIPS 2019), and Lookahead-minmax for games (Chavdarova et al.,
/// ICLR 2021, ALGORITHMS.md section 9): keep slow weights; after every k fast steps of the base optimizer,
/// <c>slow &lt;- slow + alpha (fast - slow)</c> and the fast weights restart from the slow ones. For a game the vector holds
/// both players, so both are pulled back together (the trap: doing it per player breaks the rotation it damps). The base
/// optimizer's own state (momentum, Adam moments) is not reset.
/// </summary>
public sealed class Lookahead : IDisposable
{
    private readonly Scalar _alpha;
    private torch.Tensor? _slow;
    private long _fastSteps;

    public Lookahead(int k, double alpha)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "lookahead k must be at least 1");
        if (alpha <= 0 || alpha > 1) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "lookahead alpha must be in (0, 1]");
        K = k;
        Alpha = alpha;
        _alpha = alpha.ToScalar();
    }

    public int K { get; }
    public double Alpha { get; }

    /// <summary>The slow weights (null before <see cref="Start"/>).</summary>
    public torch.Tensor? Slow => _slow;

    /// <summary>Takes the starting point as the slow weights (before the first fast step), and restarts the count.</summary>
    public void Start(torch.Tensor parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _slow?.Dispose();
        _slow = parameters.detach().clone().DetachFromDisposeScope();
        _fastSteps = 0;
    }

    /// <summary>After one fast step of <paramref name="fast"/> (updated in place): every k-th step syncs it. True when it did.</summary>
    public bool AfterStep(torch.Tensor fast)
    {
        ArgumentNullException.ThrowIfNull(fast);
        if (_slow is null) throw new InvalidOperationException("Lookahead.Start was not called");
        if (++_fastSteps % K != 0) return false;
        using var scope = torch.NewDisposeScope();
        _slow.add_(fast.sub(_slow), alpha: _alpha);
        fast.copy_(_slow);
        return true;
    }

    public void Dispose()
    {
        _slow?.Dispose();
        _alpha.Dispose();
    }
}

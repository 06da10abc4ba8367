using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>
/// Stale replay (time-coupled): every round record the honest mean (or the worker's own vector when nothing else is
/// visible) and send the one recorded <c>lag</c> rounds earlier; until that much history exists, the oldest recorded.
/// A ring buffer of lag + 1 vectors is the whole state.
/// </summary>
public sealed class StaleReplay : IAttack, IDisposable
{
    private readonly torch.Tensor?[] _ring;
    private long _recorded;

    public StaleReplay(int lag = 1)
    {
        if (lag < 1) throw new ArgumentException($"attack.lag = {lag} is invalid: must be >= 1", nameof(lag));
        Lag = lag;
        _ring = new torch.Tensor?[lag + 1];
    }

    public int Lag { get; }
    public string Name => "stale-replay";
    public bool NeedsHonestVectors => false;

    public torch.Tensor Craft(AttackContext context)
    {
        using var scope = torch.NewDisposeScope();
        int slot = (int)(_recorded % _ring.Length);
        _ring[slot]?.Dispose();
        _ring[slot] = context.HonestMeanOrOwn().detach().DetachFromDisposeScope();
        _recorded++;
        long back = Math.Min(Lag, _recorded - 1);
        var old = _ring[(int)((_recorded - 1 - back) % _ring.Length)]!;
        return old.clone().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        for (int i = 0; i < _ring.Length; i++)
        {
            _ring[i]?.Dispose();
            _ring[i] = null;
        }
    }
}

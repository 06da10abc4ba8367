using TorchSharp;

namespace Actors.Runtime.ParameterServer;

/// <summary>
/// The colluding Byzantine workers' shared blackboard: for attacks that craft the same vector on every colluder
/// (<see cref="Learning.Attacks.IAttack.SameForAllColluders"/>: ALIE, IPM) in rounds where all of them see the
/// same honest vectors (sync and deadline timing), the first colluder of a round crafts and the others reuse it.
/// The result is bit for bit what each would have crafted (same inputs, same shared rng); only the work is shared.
/// Each colluder still encodes (and error-feeds) its copy through its own codec. Thread-safe; one per run.
/// </summary>
public sealed class CollusionBoard : IDisposable
{
    private readonly Lock _gate = new();
    private long _round = -1;
    private torch.Tensor[]? _messages;

    /// <summary>Runs <paramref name="use"/> on the round's messages, crafting them first if this is the round's first call.</summary>
    /// <param name="craft">Makes the round's messages; the board takes them over (they are detached from any dispose scope).</param>
    /// <param name="use">Reads the messages (must not keep, modify or dispose them); runs under the board's lock.</param>
    public void Use(long round, Func<IReadOnlyList<torch.Tensor>> craft, Action<IReadOnlyList<torch.Tensor>> use)
    {
        ArgumentNullException.ThrowIfNull(craft);
        ArgumentNullException.ThrowIfNull(use);
        lock (_gate)
        {
            if (_messages is null || _round != round)
            {
                var fresh = craft().Select(t => t.DetachFromDisposeScope()).ToArray();
                Clear();
                _messages = fresh;
                _round = round;
            }
            use(_messages);
        }
    }

    private void Clear()
    {
        if (_messages is null) return;
        foreach (var t in _messages) t.Dispose();
        _messages = null;
    }

    public void Dispose()
    {
        lock (_gate) Clear();
    }
}

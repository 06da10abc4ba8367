using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>
/// What a Byzantine worker sends instead of its honest update. Attacks are plain math: the runtime decides when a
/// Byzantine worker runs (timing) and delivers what it may see through <see cref="AttackContext"/>.
/// All Byzantine workers of a run should get an rng derived from the same seed so that they craft the same vector
/// (the papers' collusion model).
/// </summary>
public interface IAttack
{
    string Name { get; }

    /// <summary>True when <see cref="Craft"/> needs <see cref="AttackContext.Honest"/> (the omniscient tap).</summary>
    bool NeedsHonestVectors { get; }

    /// <summary>True when the worker must not apply worker momentum to its own vector (BF/LF send raw gradients).</summary>
    bool SendsRawGradient => false;

    /// <summary>Label transform to train the worker's own model with (label flipping), else null.</summary>
    Func<torch.Tensor, torch.Tensor>? LabelMap => null;

    /// <summary>Timing hint: craft only after the honest vectors of the round are known (last-mover).</summary>
    bool WaitsForHonestRound => false;

    /// <summary>
    /// True when <see cref="Craft"/> depends only on the honest vectors and the round's shared rng (not on
    /// <see cref="AttackContext.Own"/> or anything per worker), so every colluding worker crafts the same vector and
    /// the runtime may compute it once per round for all of them. Stateful attacks (mimic keeps the target it chose in
    /// its first round) must say false: a different colluder may craft each round.
    /// </summary>
    bool SameForAllColluders => false;

    /// <summary>Messages this worker sends per round (flood &gt; 1).</summary>
    int MessagesPerRound => 1;

    /// <summary>The malicious vector for this round: a new tensor the caller owns; inputs are never modified.</summary>
    torch.Tensor Craft(AttackContext context);

    /// <summary>Every message of the round (<see cref="MessagesPerRound"/> of them); the caller owns them.</summary>
    IReadOnlyList<torch.Tensor> CraftMessages(AttackContext context) => [Craft(context)];
}

/// <summary>
/// What a Byzantine worker sees in one round.
/// </summary>
/// <param name="own">The vector this worker computed honestly this round on its own data: its raw gradient when
/// <see cref="IAttack.SendsRawGradient"/> (trained with <see cref="IAttack.LabelMap"/> if any), else its momentum.</param>
/// <param name="honest">The vectors the attacker may see, in a stable order (by worker id): with `attack.omniscient`
/// the honest workers' vectors of this round, delivered through the runtime's tap; empty when not needed.</param>
/// <param name="n">Total workers (honest + Byzantine).</param>
/// <param name="f">Byzantine workers.</param>
/// <param name="round">The round (server model version) being attacked.</param>
/// <param name="rng">Seeded rng of the attacker.</param>
public sealed class AttackContext(torch.Tensor own, IReadOnlyList<torch.Tensor> honest, int n, int f, long round, Random rng)
{
    public torch.Tensor Own { get; } = own;
    public IReadOnlyList<torch.Tensor> Honest { get; } = honest;
    public int N { get; } = n;
    public int F { get; } = f;
    public long Round { get; } = round;
    public Random Rng { get; } = rng;

    /// <summary>The honest vectors stacked into a new [k, d] matrix (in the caller's dispose scope).</summary>
    internal torch.Tensor StackHonest(string attack)
    {
        if (Honest.Count == 0)
        {
            throw new InvalidOperationException(
                $"attack '{attack}' needs the honest vectors of the round (attack.omniscient = true, or the colluders' own vectors)");
        }
        return torch.stack(Honest.Select(h => h.detach()), 0);
    }

    /// <summary>Mean of the visible honest vectors, or <see cref="Own"/> when none are visible (new tensor).</summary>
    internal torch.Tensor HonestMeanOrOwn() =>
        Honest.Count == 0 ? Own.detach().clone() : torch.stack(Honest.Select(h => h.detach()), 0).mean([0L]);

    /// <summary>A torch generator seeded from the attacker's rng, so tensor noise is reproducible.</summary>
    internal torch.Generator NewGenerator() => Util.TorchSetup.Generator((ulong)Rng.NextInt64());
}

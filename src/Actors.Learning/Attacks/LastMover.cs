using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>
/// Last mover (time-coupled): waits until the honest vectors of the round are known (the runtime's timing hook) and
/// crafts against exactly those, with an omniscient base attack (ALIE by default, or IPM).
/// </summary>
public sealed class LastMover : IAttack
{
    public LastMover(IAttack inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    public IAttack Inner { get; }
    public string Name => "last-mover";
    public bool NeedsHonestVectors => true;
    public bool WaitsForHonestRound => true;
    public bool SameForAllColluders => Inner.SameForAllColluders;

    public torch.Tensor Craft(AttackContext context) => Inner.Craft(context);
}

using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>BF: send -g, the worker's raw gradient with its sign flipped (no momentum).</summary>
public sealed class BitFlip : IAttack
{
    public string Name => "bitflip";
    public bool NeedsHonestVectors => false;
    public bool SendsRawGradient => true;

    public torch.Tensor Craft(AttackContext context) => context.Own.detach().neg();
}

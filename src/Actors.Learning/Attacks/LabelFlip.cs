using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>LF: the worker trains on label (classes - 1) - y (9 - y for 10 classes) and sends that raw gradient.</summary>
public sealed class LabelFlip : IAttack
{
    public LabelFlip(int classes = 10)
    {
        if (classes < 2) throw new ArgumentException($"label flip needs >= 2 classes (got {classes})", nameof(classes));
        Classes = classes;
    }

    public int Classes { get; }
    public string Name => "labelflip";
    public bool NeedsHonestVectors => false;
    public bool SendsRawGradient => true;
    public Func<torch.Tensor, torch.Tensor>? LabelMap => y => y.neg().AddNumber_(Classes - 1);

    public torch.Tensor Craft(AttackContext context) => context.Own.detach().clone();
}

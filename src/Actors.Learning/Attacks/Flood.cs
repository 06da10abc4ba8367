using TorchSharp;

namespace Actors.Learning.Attacks;

/// <summary>
/// Flood (time-coupled): one Byzantine worker sends <c>rate</c> messages per round, each a copy of a base attack's
/// vector (bit flip by default), to test that the aggregator side accepts at most one message per worker per round.
/// </summary>
public sealed class Flood : IAttack
{
    public Flood(IAttack inner, int rate = 10)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (rate < 1) throw new ArgumentException($"attack.rate = {rate} is invalid: must be >= 1", nameof(rate));
        Inner = inner;
        Rate = rate;
    }

    public IAttack Inner { get; }
    public int Rate { get; }
    public string Name => "flood";
    public bool NeedsHonestVectors => Inner.NeedsHonestVectors;
    public bool SendsRawGradient => Inner.SendsRawGradient;
    public Func<torch.Tensor, torch.Tensor>? LabelMap => Inner.LabelMap;
    public int MessagesPerRound => Rate;
    public bool SameForAllColluders => Inner.SameForAllColluders;

    public torch.Tensor Craft(AttackContext context) => Inner.Craft(context);

    public IReadOnlyList<torch.Tensor> CraftMessages(AttackContext context)
    {
        var v = Inner.Craft(context);
        var all = new torch.Tensor[Rate];
        all[0] = v;
        for (int i = 1; i < Rate; i++) all[i] = v.clone();
        return all;
    }
}

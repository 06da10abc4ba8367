using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>The plain average: not robust; the attack-free baseline.</summary>
public sealed class Mean : IAggregator
{
    public string Name => "mean";

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        if (updates.Count == 0) throw new ArgumentException("mean of zero updates", nameof(updates));
        using var scope = torch.NewDisposeScope();
        var sum = updates[0].clone();
        for (int i = 1; i < updates.Count; i++) sum.add_(updates[i]);
        using var n = ((float)updates.Count).ToScalar(); // explicit: a temporary Scalar may be finalized mid-call
        sum.div_(n);
        return sum.MoveToOuterDisposeScope();
    }
}

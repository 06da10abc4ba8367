using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>The plain average: not robust; the attack-free baseline. Non-finite updates are dropped and counted.</summary>
public sealed class Mean : IAggregator
{
    public string Name => "mean";

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        long d = RobustInputs.Length(updates);
        using var scope = torch.NewDisposeScope();
        // Fast path: a NaN or infinity in any input shows in the sum, so the per-input check runs only then.
        var sum = Sum(updates);
        if (!double.IsFinite(sum.sum(type: torch.float64).item<double>()))
        {
            var finite = RobustInputs.Finite(updates, context);
            if (finite.Count == 0) return torch.zeros(d, updates[0].dtype).MoveToOuterDisposeScope();
            sum = Sum(finite);
            using var k = ((float)finite.Count).ToScalar(); // explicit: a temporary Scalar may be finalized mid-call
            sum.div_(k);
        }
        else
        {
            using var n = ((float)updates.Count).ToScalar();
            sum.div_(n);
        }
        return sum.MoveToOuterDisposeScope();
    }

    private static torch.Tensor Sum(IReadOnlyList<torch.Tensor> updates)
    {
        var sum = updates[0].detach().clone();
        for (int i = 1; i < updates.Count; i++) sum.add_(updates[i]);
        return sum;
    }
}

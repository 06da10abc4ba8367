using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Coordinate-wise median (CM). For an even number of inputs the two middle values are averaged (as the reference
/// code does with median(x) and -median(-x)), not torch's lower median.
/// </summary>
public sealed class CoordinateWiseMedian : IAggregator
{
    public string Name => "median";

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        long d = RobustInputs.Length(updates);
        using var scope = torch.NewDisposeScope();
        var x = RobustInputs.Finite(updates, context);
        long n = x.Count;
        if (n == 0) return torch.zeros(d, updates[0].dtype).MoveToOuterDisposeScope();
        return CoordinateSelection.Median(x).MoveToOuterDisposeScope();
    }
}

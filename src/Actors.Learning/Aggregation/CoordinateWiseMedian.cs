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
        var x = RobustInputs.StackFinite(updates, context, squaredNorms: false, out _);
        long n = x.shape[0];
        if (n == 0) return torch.zeros(d, updates[0].dtype).MoveToOuterDisposeScope();
        var lower = x.kthvalue((n + 1) / 2, 0).values;
        if (n % 2 == 1) return lower.MoveToOuterDisposeScope();
        var upper = x.kthvalue(n / 2 + 1, 0).values;
        return lower.add_(upper).mul_(0.5).MoveToOuterDisposeScope();
    }
}

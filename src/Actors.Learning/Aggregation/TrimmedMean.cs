using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Coordinate-wise trimmed mean: per coordinate drop the <c>trim</c> largest and <c>trim</c> smallest values and
/// average the rest. When fewer inputs arrive than 2 * trim + 1 (drops, async rounds), trim shrinks until one value
/// remains per side, as the reference code does.
/// </summary>
public sealed class TrimmedMean : IAggregator
{
    public TrimmedMean(int trim)
    {
        if (trim < 0) throw new ArgumentException($"aggregator.trim = {trim} is invalid: must be >= 0", nameof(trim));
        Trim = trim;
    }

    public int Trim { get; }

    public string Name => "trimmed-mean";

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        long d = RobustInputs.Length(updates);
        using var scope = torch.NewDisposeScope();
        var x = RobustInputs.Finite(updates, context);
        long n = x.Count;
        if (n == 0) return torch.zeros(d, updates[0].dtype).MoveToOuterDisposeScope();
        long b = Trim;
        while (n - 2 * b <= 0) b--;
        return CoordinateSelection.TrimmedMean(x, (int)b).MoveToOuterDisposeScope();
    }
}

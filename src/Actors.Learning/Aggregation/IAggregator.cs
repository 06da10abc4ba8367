using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Combines the updates of one step into one vector. Implementations may keep state across rounds
/// (centered clipping keeps its center) and must not modify their inputs.
/// </summary>
public interface IAggregator
{
    string Name { get; }

    /// <summary>Aggregates 1-D update vectors of equal length into a new 1-D tensor.</summary>
    torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context);
}

/// <summary>What an aggregator may know about the round: n expected inputs, f tolerated Byzantine ones, a seeded rng.</summary>
public sealed class AggregationContext(int n, int f, long round, Random rng)
{
    public int N { get; } = n;
    public int F { get; } = f;
    public long Round { get; } = round;
    public Random Rng { get; } = rng;

    /// <summary>Inputs an aggregator refused this round, by reason ("non_finite", "filtered", ...).</summary>
    public Dictionary<string, int> Dropped { get; } = [];

    public void CountDropped(string reason, int count = 1) =>
        Dropped[reason] = Dropped.GetValueOrDefault(reason) + count;
}

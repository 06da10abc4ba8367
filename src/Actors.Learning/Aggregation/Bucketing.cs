using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Bucketing (Karimireddy, He, Jaggi, ICLR 2022, Alg. 1): shuffle the inputs with the round's seeded rng, cut them into
/// ceil(n/s) buckets of s (the last may be smaller), and give the bucket means to the inner aggregator, which then sees
/// n := ceil(n/s) inputs and the original f. Non-finite inputs are dropped before bucketing so that one cannot
/// poison a bucket mean.
/// </summary>
public sealed class Bucketing : IAggregator, IDisposable
{
    public Bucketing(IAggregator inner, int bucketSize)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (bucketSize < 1) throw new ArgumentException($"aggregator.bucket-size = {bucketSize} is invalid: must be >= 1", nameof(bucketSize));
        Inner = inner;
        BucketSize = bucketSize;
    }

    public IAggregator Inner { get; }

    public int BucketSize { get; }

    public string Name => $"{Inner.Name}+bucketing(s={BucketSize})";

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        RobustInputs.Length(updates);
        using var scope = torch.NewDisposeScope();
        var finite = RobustInputs.Finite(updates, context);
        // Nothing usable: let the inner rule give its empty-round answer (zeros, or the kept center) without recounting.
        if (finite.Count == 0) return Inner.Aggregate(updates, InnerContext(context, 0)).MoveToOuterDisposeScope();
        var buckets = Buckets(finite.Count, context.Rng);
        var means = new List<torch.Tensor>(buckets.Count);
        foreach (var bucket in buckets)
        {
            var m = finite[bucket[0]].detach().clone();
            for (int k = 1; k < bucket.Length; k++) m.add_(finite[bucket[k]]);
            means.Add(m.DivBy_(bucket.Length));
        }
        var inner = InnerContext(context, buckets.Count);
        var result = Inner.Aggregate(means, inner);
        foreach (var (reason, count) in inner.Dropped) context.CountDropped(reason, count);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The shuffled index buckets for <paramref name="n"/> inputs (consumes the rng like Aggregate does).</summary>
    public List<int[]> Buckets(int n, Random rng)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var buckets = new List<int[]>((n + BucketSize - 1) / BucketSize);
        for (int start = 0; start < n; start += BucketSize) buckets.Add(order[start..Math.Min(n, start + BucketSize)]);
        return buckets;
    }

    /// <summary>The inner context: n := ceil(N/s) expected buckets, the original f.</summary>
    private AggregationContext InnerContext(AggregationContext outer, int present) =>
        new(Math.Max(present, (outer.N + BucketSize - 1) / BucketSize), outer.F, outer.Round, outer.Rng);

    public void Dispose() => (Inner as IDisposable)?.Dispose();
}

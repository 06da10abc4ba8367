namespace Actors.Learning.Aggregation;

/// <summary>The `aggregator { ... }` block. Null means "the rule's default" (trim: f; iterations: 3 for cclip, 8 for rfa).</summary>
public sealed record AggregatorSettings(
    string Type = "mean",
    double Tau = 10,
    int? Iterations = null,
    int? Trim = null,
    int M = 1,
    int BucketSize = 0,
    bool Async = false,
    double Nu = 0.1);

/// <summary>The only place that maps `aggregator.type` names to implementations, and validates n and f for them.</summary>
public static class AggregatorFactory
{
    public static readonly string[] Types = ["mean", "median", "trimmed-mean", "krum", "rfa", "cclip"];

    /// <summary>
    /// Builds the configured aggregator for <paramref name="n"/> workers of which <paramref name="f"/> may be Byzantine,
    /// wrapped in <see cref="Bucketing"/> when bucket-size >= 2. Throws <see cref="ArgumentException"/> naming the key,
    /// the bad value and the valid choices or the violated rule. With bucketing the rules apply to n := ceil(n/s).
    /// </summary>
    public static IAggregator Create(AggregatorSettings settings, int n, int f)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (n < 1) throw new ArgumentException($"workers: n = {n} is invalid: need at least one worker");
        if (f < 0) throw new ArgumentException($"workers.byzantine = {f} is invalid: must be >= 0");
        if (!Types.Contains(settings.Type))
        {
            throw new ArgumentException($"aggregator.type = '{settings.Type}' is unknown (valid: {string.Join(", ", Types)})");
        }
        if (settings.BucketSize < 0 || settings.BucketSize == 1)
        {
            throw new ArgumentException($"aggregator.bucket-size = {settings.BucketSize} is invalid (valid: 0 = off, or >= 2)");
        }
        bool bucketed = settings.BucketSize >= 2;
        int effective = bucketed ? (n + settings.BucketSize - 1) / settings.BucketSize : n;
        string nText = bucketed ? $"n = ceil({n}/{settings.BucketSize}) = {effective} buckets" : $"n = {effective}";

        if (settings.Type != "mean" && 2 * f >= effective)
        {
            throw new ArgumentException(
                $"aggregator.type = {settings.Type} needs f < n/2 ({nText}, f = {f})");
        }
        IAggregator inner = settings.Type switch
        {
            "mean" => new Mean(),
            "median" => new CoordinateWiseMedian(),
            "trimmed-mean" => TrimmedMean(settings.Trim ?? f, effective, nText),
            "krum" => Krum(settings.M, effective, f, nText),
            "rfa" => new Rfa(settings.Iterations ?? 8, settings.Nu),
            "cclip" => new CenteredClipping(settings.Tau, settings.Iterations ?? 3, settings.Async),
            _ => throw new InvalidOperationException("unreachable"),
        };
        return bucketed ? new Bucketing(inner, settings.BucketSize) : inner;
    }

    private static TrimmedMean TrimmedMean(int trim, int n, string nText)
    {
        if (trim < 0) throw new ArgumentException($"aggregator.trim = {trim} is invalid: must be >= 0");
        if (2 * trim >= n) throw new ArgumentException($"aggregator.trim = {trim} is invalid: trimmed mean needs 2 * trim < n ({nText})");
        return new TrimmedMean(trim);
    }

    private static Krum Krum(int m, int n, int f, string nText)
    {
        if (n <= 2 * f + 2) throw new ArgumentException($"aggregator.type = krum needs n > 2f + 2 ({nText}, f = {f}: {n} <= {2 * f + 2})");
        if (m < 1 || m > n) throw new ArgumentException($"aggregator.m = {m} is invalid: must be in 1..n (1 = Krum, {nText})");
        return new Krum(f, m);
    }
}

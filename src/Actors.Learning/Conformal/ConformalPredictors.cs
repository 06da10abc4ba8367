namespace Actors.Learning.Conformal;

/// <summary>Settings shared by the measures; the defaults are the paper's (k = 15, rho = 1).</summary>
public sealed record ConformalOptions
{
    public int K { get; init; } = KnnMeasure.DefaultK;
    public double Bandwidth { get; init; } = KdeMeasure.DefaultBandwidth;
    public double Rho { get; init; } = LsSvmMeasure.DefaultRho;
    public int BootstrapModels { get; init; } = BootstrapMeasure.DefaultModels;
    public long Seed { get; init; } = 1;
    public DistanceBackend Backend { get; init; } = DistanceBackend.Naive;
}

/// <summary>The registry: the one place that maps measure names to implementations.</summary>
public static class ConformalPredictors
{
    public static readonly string[] Measures = ["knn", "simplified-knn", "kde", "lssvm", "bootstrap"];

    public static INonconformityMeasure Measure(string name, ConformalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return name switch
        {
            "knn" => new KnnMeasure(options.K, false, options.Backend),
            "simplified-knn" => new KnnMeasure(options.K, true, options.Backend),
            "kde" => new KdeMeasure(options.Bandwidth),
            "lssvm" => new LsSvmMeasure(options.Rho),
            "bootstrap" => new BootstrapMeasure(options.BootstrapModels, options.Rho, options.Seed),
            _ => throw new ArgumentException($"unknown nonconformity measure '{name}' (valid: {string.Join(", ", Measures)})"),
        };
    }

    /// <summary>Standard full CP (the baseline: retrains for every point and label).</summary>
    public static IConformalPredictor Standard(string name, ConformalOptions options) => new FullConformalPredictor(Measure(name, options));

    /// <summary>The exact optimized predictor: the same p-values as <see cref="Standard"/>.</summary>
    public static IConformalPredictor Optimized(string name, ConformalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return name switch
        {
            "knn" => new OptimizedKnnConformalPredictor(options.K, false, options.Backend),
            "simplified-knn" => new OptimizedKnnConformalPredictor(options.K, true, options.Backend),
            "kde" => new OptimizedKdeConformalPredictor(options.Bandwidth),
            "lssvm" => new OptimizedLsSvmConformalPredictor(options.Rho),
            "bootstrap" => new OptimizedBootstrapConformalPredictor(options.BootstrapModels, options.Rho, options.Seed),
            _ => throw new ArgumentException($"unknown nonconformity measure '{name}' (valid: {string.Join(", ", Measures)})"),
        };
    }

    public static IConformalPredictor Inductive(string name, ConformalOptions options, double calibrationFraction = 0.3) =>
        new InductiveConformalPredictor(Measure(name, options), calibrationFraction, options?.Seed ?? 1);
}

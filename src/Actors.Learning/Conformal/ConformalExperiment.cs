using System.Diagnostics;
using System.Globalization;
using Actors.Learning.Data;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Conformal;

/// <summary>What <c>actors conformal</c> runs.</summary>
public sealed record ConformalExperimentSettings
{
    public string Dataset { get; init; } = "fashion-mnist";
    public string? DataPath { get; init; }
    public string Measure { get; init; } = "knn";
    public int Train { get; init; } = 1000;
    public int Test { get; init; } = 100;
    /// <summary>Feature map: "pca:D" or "raw".</summary>
    public string Features { get; init; } = "pca:50";
    /// <summary>Use only labels 0..Labels-1 (10 = all of Fashion-MNIST).</summary>
    public int Labels { get; init; } = 10;
    public bool RunStandard { get; init; }
    /// <summary>Test points the (slow) standard predictor runs on; the first ones of the test set.</summary>
    public int StandardTest { get; init; } = 5;
    public ConformalOptions Options { get; init; } = new();
}

/// <summary>The figures <c>actors conformal</c> prints.</summary>
public sealed record ConformalReport(
    string Measure, int Train, int Test, int Dimension, int Labels, string DataSource,
    double FitSeconds, double OptimizedMsPerPoint,
    double MeanTrueLabelPValue, double MeanCredibility, double MeanConfidence, double Coverage10, double Coverage05, double SetSize10, double SetSize05,
    int StandardTest, double? StandardMsPerPoint, double? MaxPValueDifference)
{
    public double? SpeedUp => StandardMsPerPoint / OptimizedMsPerPoint;

    public IEnumerable<string> Lines()
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Format(c, "data: {0}, {1} train / {2} test, {3} features, {4} labels; measure {5}", DataSource, Train, Test, Dimension, Labels, Measure);
        yield return string.Format(c, "p-values: true label mean {0:F3}; credibility (largest p) mean {1:F3}; confidence (1 - second largest p) mean {2:F3}",
            MeanTrueLabelPValue, MeanCredibility, MeanConfidence);
        yield return string.Format(c, "eps = 0.10: coverage {0:F3}, average set size {1:F2}", Coverage10, SetSize10);
        yield return string.Format(c, "eps = 0.05: coverage {0:F3}, average set size {1:F2}", Coverage05, SetSize05);
        yield return string.Format(c, "optimized: fit {0:F2} s, {1:F3} ms per test point", FitSeconds, OptimizedMsPerPoint);
        if (StandardMsPerPoint is { } s)
        {
            yield return string.Format(c, "standard:  {0:F1} ms per test point (on {1} test points)", s, StandardTest);
            yield return string.Format(c, "speed-up:  {0:F0}x, max |p_optimized - p_standard| = {1:E2}", SpeedUp, MaxPValueDifference);
        }
    }
}

/// <summary>Loads a dataset, maps it to features, and runs the optimized (and optionally standard) conformal predictor.</summary>
public static class ConformalExperiment
{
    /// <summary>Seeded draw of <paramref name="count"/> examples with label &lt; <paramref name="labels"/>.</summary>
    public static long[] Draw(Dataset data, int count, int labels, long seed, string stream)
    {
        ArgumentNullException.ThrowIfNull(data);
        var y = data.Labels.ToHostArray<long>();
        var eligible = Enumerable.Range(0, y.Length).Where(i => y[i] < labels).ToArray();
        if (count > eligible.Length)
            throw new ArgumentException($"asked for {count} examples but {data.Name} has {eligible.Length} with labels below {labels}");
        Seeds.Random(seed, stream).Shuffle(eligible);
        return [.. eligible.Take(count).Select(i => (long)i)];
    }

    /// <summary>Training bag and test bag as features (PCA fitted on the drawn training examples).</summary>
    public static (LabelledData Train, LabelledData Test, string Source) Prepare(ConformalExperimentSettings settings, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Train < 2) throw new ArgumentException($"--train must be at least 2, got {settings.Train}");
        if (settings.Test < 1) throw new ArgumentException($"--test must be at least 1, got {settings.Test}");
        if (settings.Labels < 2) throw new ArgumentException($"--labels must be at least 2, got {settings.Labels}");
        using var bundle = DatasetLocator.Load(settings.Dataset, settings.DataPath, settings.Options.Seed, warn, TimeSpan.Zero);
        return Prepare(settings, bundle);
    }

    /// <summary>As above, from an already loaded dataset (not disposed here).</summary>
    public static (LabelledData Train, LabelledData Test, string Source) Prepare(ConformalExperimentSettings settings, DataBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(bundle);
        int dims = PcaFeatures.ParseSpec(settings.Features);
        int labels = Math.Min(settings.Labels, bundle.Train.Classes);
        var trainIdx = Draw(bundle.Train, settings.Train, labels, settings.Options.Seed, "conformal-train");
        var testIdx = Draw(bundle.Test, settings.Test, labels, settings.Options.Seed, "conformal-test");
        using var train = bundle.Train.Subset(trainIdx);
        using var test = bundle.Test.Subset(testIdx);
        var (ftr, fte, d) = PcaFeatures.Project(train.Features, test.Features, dims);
        var ytr = train.Labels.ToHostArray<long>().Select(v => (int)v).ToArray();
        var yte = test.Labels.ToHostArray<long>().Select(v => (int)v).ToArray();
        return (new LabelledData(ftr, ytr, d, labels), new LabelledData(fte, yte, d, labels), bundle.IsSynthetic ? "synthetic" : settings.Dataset);
    }

    /// <summary>p-values of every test point; k-NN computes the distances of all test points in one batch.</summary>
    public static double[][] PValues(IConformalPredictor predictor, LabelledData test, int count)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(test);
        if (predictor is OptimizedKnnConformalPredictor knn)
            return knn.PValuesMany(test.Features.AsSpan(0, count * test.Dimension).ToArray(), count);
        var result = new double[count][];
        for (int i = 0; i < count; i++) result[i] = predictor.PValues(test.Row(i));
        return result;
    }

    public static ConformalReport Run(ConformalExperimentSettings settings, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(settings);
        TorchSetup.Initialize();
        return Run(settings, Prepare(settings, warn));
    }

    /// <summary>As above, on an already loaded dataset (not disposed here).</summary>
    public static ConformalReport Run(ConformalExperimentSettings settings, DataBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Run(settings, Prepare(settings, bundle));
    }

    private static ConformalReport Run(ConformalExperimentSettings settings, (LabelledData Train, LabelledData Test, string Source) data)
    {
        var (train, test, source) = data;
        var optimized = ConformalPredictors.Optimized(settings.Measure, settings.Options);
        var sw = Stopwatch.StartNew();
        optimized.Fit(train);
        double fitSeconds = sw.Elapsed.TotalSeconds;
        PValues(optimized, test, Math.Min(test.Count, 3)); // untimed: keeps JIT compilation out of the per-point figure
        sw.Restart();
        var p = PValues(optimized, test, test.Count);
        double optMs = sw.Elapsed.TotalMilliseconds / test.Count;

        double meanTrue = 0, credibility = 0, confidence = 0, cov10 = 0, cov05 = 0, size10 = 0, size05 = 0;
        for (int i = 0; i < test.Count; i++)
        {
            var pi = p[i];
            meanTrue += pi[test.Labels[i]];
            var sorted = pi.OrderDescending().ToArray();
            credibility += sorted[0];
            confidence += 1 - (sorted.Length > 1 ? sorted[1] : 0);
            cov10 += pi[test.Labels[i]] > 0.10 ? 1 : 0;
            cov05 += pi[test.Labels[i]] > 0.05 ? 1 : 0;
            size10 += pi.Count(v => v > 0.10);
            size05 += pi.Count(v => v > 0.05);
        }
        int m = test.Count;
        double? stdMs = null, maxDiff = null;
        int stdTest = 0;
        if (settings.RunStandard)
        {
            stdTest = Math.Clamp(settings.StandardTest, 1, m);
            var standard = ConformalPredictors.Standard(settings.Measure, settings.Options);
            standard.Fit(train);
            sw.Restart();
            double diff = 0;
            for (int i = 0; i < stdTest; i++)
            {
                var ps = standard.PValues(test.Row(i));
                for (int y = 0; y < ps.Length; y++) diff = Math.Max(diff, Math.Abs(ps[y] - p[i][y]));
            }
            stdMs = sw.Elapsed.TotalMilliseconds / stdTest;
            maxDiff = diff;
        }
        return new ConformalReport(settings.Measure, train.Count, m, train.Dimension, train.Classes, source, fitSeconds, optMs,
            meanTrue / m, credibility / m, confidence / m, cov10 / m, cov05 / m, size10 / m, size05 / m, stdTest, stdMs, maxDiff);
    }
}

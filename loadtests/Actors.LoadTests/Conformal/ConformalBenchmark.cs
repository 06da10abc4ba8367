using System.Diagnostics;
using System.Globalization;
using Actors.Learning.Conformal;
using Actors.Learning.Data;
using Actors.Learning.Util;

namespace Actors.LoadTests.Conformal;

/// <summary>
/// Standard vs optimized full CP, side by side in one run, on 50-d PCA features of Fashion-MNIST (ALGORITHMS.md section 11).
/// Stopwatch timing (the standard predictor takes seconds per test point, too long for BenchmarkDotNet's repeated runs);
/// each figure is reported as wall time and as process CPU time, since the machine is shared: CPU time is what the
/// code costs, wall time is what a user waits. The optimized figures repeat the test set until at least 1 s has passed.
/// Options: --sizes 1000,2000,4000  --test M  --standard-test S  --quick.
/// </summary>
public static class ConformalBenchmark
{
    // The authors' Python/numpy code on this machine (issue 6): seconds standard, ms optimized per test point.
    private static readonly Dictionary<int, (double StandardS, double OptimizedMs)> Authors = new()
    {
        [1000] = (2.5, 5.2), [2000] = (7.4, 8.1), [4000] = (35, 16.9),
    };

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Milliseconds per test point, wall and CPU.</summary>
    private readonly record struct PerPoint(double WallMs, double CpuMs)
    {
        public override string ToString() => string.Format(C, "{0,9:F3} ({1,9:F3})", WallMs, CpuMs);
    }

    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool quick = args.Contains("--quick");
        int[] sizes = Option(args, "--sizes") is { } s ? [.. s.Split(',').Select(v => int.Parse(v, C))] : quick ? [300, 600] : [1000, 2000, 4000];
        int testPoints = Option(args, "--test") is { } t ? int.Parse(t, C) : quick ? 20 : 200;
        int standardTest = Option(args, "--standard-test") is { } st ? int.Parse(st, C) : quick ? 1 : 2;

        TorchSetup.Initialize();
        Console.WriteLine($"conformal benchmark: {Environment.ProcessorCount} cores, load average {LoadAverage()}, {DateTime.UtcNow:u}");
        using var bundle = DatasetLocator.Load("fashion-mnist", null, 1, Console.Error.WriteLine, TimeSpan.Zero);
        if (bundle.IsSynthetic) Console.WriteLine("WARNING: Fashion-MNIST not installed, running on synthetic data");
        WarmUp(bundle);
        var standardBackend = FasterStandardBackend(bundle, sizes[0]);

        Console.WriteLine();
        Console.WriteLine("k-NN (k = 15), 50-d PCA Fashion-MNIST, 10 labels: ms per test point, wall (CPU)");
        Console.WriteLine("     n | fit s |   optimized, naive dist |   optimized, torch dist |       standard         | speed-up wall (CPU) | max |dp| | authors: std s, opt ms, speed-up | our opt vs theirs");
        foreach (var n in sizes) KnnRow(bundle, n, testPoints, standardTest, standardBackend);

        Console.WriteLine();
        Console.WriteLine("other measures, 50-d PCA: ms per test point, wall (CPU)");
        Console.WriteLine("measure          |    n | labels |       optimized        |        standard        | speed-up wall (CPU) | max |dp|");
        int[] lsSizes = quick ? [100, 200] : [250, 500];
        foreach (var n in lsSizes) Row(bundle, "lssvm", n, 2, new ConformalOptions(), testPoints, standardTest);
        foreach (var n in lsSizes) Row(bundle, "bootstrap", n, 2, new ConformalOptions { BootstrapModels = 30 }, quick ? 2 : 10, 1);
        Row(bundle, "kde", quick ? 300 : 1000, 10, new ConformalOptions { Bandwidth = 5 }, testPoints, 1);
        Row(bundle, "simplified-knn", quick ? 300 : 1000, 10, new ConformalOptions(), testPoints, 1);
        Console.WriteLine();
        Console.WriteLine("(authors, on this machine: LS-SVM ~800x at n = 250, ~6,000x at n = 500, two labels; bootstrap ~n/2.3)");
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>Runs <paramref name="batch"/> (which handles <paramref name="points"/> test points) until at least <paramref name="minSeconds"/>.</summary>
    private static PerPoint Time(Action batch, int points, double minSeconds)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        int done = 0;
        do
        {
            batch();
            done += points;
        }
        while (sw.Elapsed.TotalSeconds < minSeconds);
        process.Refresh();
        return new PerPoint(sw.Elapsed.TotalMilliseconds / done, (process.TotalProcessorTime - cpu0).TotalMilliseconds / done);
    }

    private static (LabelledData Train, LabelledData Test) Data(DataBundle bundle, int n, int m, int labels)
    {
        var (train, test, _) = ConformalExperiment.Prepare(new ConformalExperimentSettings { Train = n, Test = m, Features = "pca:50", Labels = labels }, bundle);
        return (train, test);
    }

    /// <summary>One small untimed pass through every code path, so that no timed figure includes JIT compilation.</summary>
    private static void WarmUp(DataBundle bundle)
    {
        var (train, test) = Data(bundle, 200, 4, 10);
        var (train2, test2) = Data(bundle, 60, 2, 2);
        foreach (var m in ConformalPredictors.Measures)
        {
            var options = new ConformalOptions { K = 5, BootstrapModels = 3 };
            var (tr, te) = m is "lssvm" or "bootstrap" ? (train2, test2) : (train, test);
            foreach (var predictor in new[] { ConformalPredictors.Optimized(m, options), ConformalPredictors.Standard(m, options) })
            {
                predictor.Fit(tr);
                ConformalExperiment.PValues(predictor, te, 1);
            }
        }
        foreach (var backend in new[] { DistanceBackend.Naive, DistanceBackend.Torch })
        {
            var knn = new OptimizedKnnConformalPredictor(5, false, backend);
            knn.Fit(train);
            knn.PValuesMany(test.Features, test.Count);
        }
    }

    /// <summary>The faster distance backend for the standard k-NN predictor (both give the same p-values).</summary>
    private static DistanceBackend FasterStandardBackend(DataBundle bundle, int n)
    {
        var (train, test) = Data(bundle, n, 1, 10);
        var times = new Dictionary<DistanceBackend, PerPoint>();
        foreach (var backend in new[] { DistanceBackend.Naive, DistanceBackend.Torch })
        {
            var standard = new FullConformalPredictor(new KnnMeasure(15, false, backend));
            standard.Fit(train);
            times[backend] = Time(() => standard.PValues(test.Row(0)), 1, 0);
        }
        var best = times.MinBy(kv => kv.Value.WallMs).Key;
        Console.WriteLine(string.Format(C, "standard k-NN at n = {0}, ms per test point, wall (CPU): naive distances {1}, torch distances {2} -> using {3}",
            n, times[DistanceBackend.Naive], times[DistanceBackend.Torch], best));
        return best;
    }

    private static void KnnRow(DataBundle bundle, int n, int testPoints, int standardTest, DistanceBackend standardBackend)
    {
        var (train, test) = Data(bundle, n, testPoints, 10);
        var sw = Stopwatch.StartNew();
        var optimized = new OptimizedKnnConformalPredictor(15, false, DistanceBackend.Naive);
        optimized.Fit(train);
        double fit = sw.Elapsed.TotalSeconds;
        var viaTorch = new OptimizedKnnConformalPredictor(15, false, DistanceBackend.Torch);
        viaTorch.Fit(train);
        double[][] p = [], pt = [];
        var optNaive = Time(() => p = optimized.PValuesMany(test.Features, test.Count), test.Count, 1);
        var optTorch = Time(() => pt = viaTorch.PValuesMany(test.Features, test.Count), test.Count, 1);
        var opt = optNaive.WallMs <= optTorch.WallMs ? optNaive : optTorch;

        var standard = new FullConformalPredictor(new KnnMeasure(15, false, standardBackend));
        standard.Fit(train);
        double diff = MaxDiff(p, pt, test.Count);
        var std = Time(() =>
        {
            for (int i = 0; i < standardTest; i++)
            {
                var ps = standard.PValues(test.Row(i));
                for (int y = 0; y < ps.Length; y++) diff = Math.Max(diff, Math.Abs(ps[y] - p[i][y]));
            }
        }, standardTest, 0);
        string authors = Authors.TryGetValue(n, out var a)
            ? string.Format(C, "{0,5:F1} s, {1,5:F1} ms, {2,6:F0}x | {3,7:F1}x faster", a.StandardS, a.OptimizedMs, a.StandardS * 1000 / a.OptimizedMs, a.OptimizedMs / opt.WallMs)
            : "                    - |";
        Console.WriteLine(string.Format(C, "{0,6} | {1,5:F2} | {2} | {3} | {4,9:F1} ({5,9:F1}) | {6,8:F0}x ({7,7:F0}x) | {8,8:E1} | {9}",
            n, fit, optNaive, optTorch, std.WallMs, std.CpuMs, std.WallMs / opt.WallMs, std.CpuMs / opt.CpuMs, diff, authors));
    }

    private static void Row(DataBundle bundle, string measure, int n, int labels, ConformalOptions options, int testPoints, int standardTest)
    {
        var (train, test) = Data(bundle, n, testPoints, labels);
        var optimized = ConformalPredictors.Optimized(measure, options);
        optimized.Fit(train);
        double[][] p = [];
        var opt = Time(() => p = ConformalExperiment.PValues(optimized, test, test.Count), test.Count, 1);
        var standard = ConformalPredictors.Standard(measure, options);
        standard.Fit(train);
        double diff = 0;
        var std = Time(() =>
        {
            for (int i = 0; i < standardTest; i++)
            {
                var ps = standard.PValues(test.Row(i));
                for (int y = 0; y < ps.Length; y++) diff = Math.Max(diff, Math.Abs(ps[y] - p[i][y]));
            }
        }, standardTest, 0);
        Console.WriteLine(string.Format(C, "{0,-16} | {1,4} | {2,6} | {3} | {4,9:F1} ({5,9:F1}) | {6,8:F0}x ({7,7:F0}x) | {8,8:E1}",
            measure, n, labels, opt, std.WallMs, std.CpuMs, std.WallMs / opt.WallMs, std.CpuMs / opt.CpuMs, diff));
    }

    private static double MaxDiff(double[][] a, double[][] b, int count)
    {
        double diff = 0;
        for (int i = 0; i < count; i++)
            for (int y = 0; y < a[i].Length; y++) diff = Math.Max(diff, Math.Abs(a[i][y] - b[i][y]));
        return diff;
    }
}

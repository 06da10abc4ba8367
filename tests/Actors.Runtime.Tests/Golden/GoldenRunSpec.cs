using System.Runtime.CompilerServices;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.Golden;

/// <summary>
/// Pins metrics.csv of five representative runs byte for byte, so a refactor that should not change behaviour cannot
/// change it silently. A deliberate change regenerates the files: ACTORS_UPDATE_GOLDEN=1 dotnet test --filter GoldenRunSpec,
/// and the diff of tests/Actors.Runtime.Tests/Golden/*.csv goes in the same commit, explained.
/// Short runs on generated data, one torch thread: a last-bit difference between CPUs stays below the 6 printed decimals.
/// </summary>
public class GoldenRunSpec
{
    private static readonly string[] Small =
    [
        "data.dataset=synthetic", "data.synthetic.train=2000", "data.synthetic.test=500", "experiment.eval-every=10", "experiment.steps=40",
    ];

    private static readonly string[] Async =
    [
        .. Small, "model.type=logreg", "optimizer.lr=0.05", "timing.mode=async", "experiment.steps=200", "experiment.eval-every=50",
        "timing.stragglers.fraction=0.2", "timing.stragglers.slowdown=10", "timing.latency-distribution=lognormal", "timing.latency-spread-ms=2",
    ];

    private static readonly string[] Buffered =
    [
        .. Small, "model.type=logreg", "optimizer.lr=0.05", "timing.mode=buffered", "timing.buffer-size=5", "experiment.steps=80",
        "timing.stragglers.fraction=0.2", "timing.stragglers.slowdown=10",
    ];

    public static TheoryData<string, string[]> Runs => new()
    {
        { "default-mlp", [.. Small, "model.type=mlp", "optimizer.lr=0.1", "optimizer.momentum=0.9"] },
        { "async-stragglers-raw", [.. Async, "optimizer.async-scaling=none"] },
        { "async-stragglers", Async },
        { "buffered-raw", [.. Buffered, "optimizer.async-scaling=none"] },
        { "buffered", Buffered },
        { "cclip-bucketing-alie", [.. Small, "model.type=mlp", "optimizer.lr=0.05", "optimizer.momentum=0.9", "workers.honest=8", "workers.byzantine=2",
            "attack.type=alie", "aggregator.type=cclip", "aggregator.bucket-size=2", "data.partition=shards"] },
        { "topk-ef", [.. Small, "model.type=mlp", "optimizer.lr=0.1", "compression.type=topk", "compression.ratio=0.05", "compression.error-feedback=on"] },
        { "lead-gossip", ["experiment.steps=200"] },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task Metrics_are_unchanged(string name, string[] overrides)
    {
        string? file = name == "lead-gossip" ? Path.Combine(RepoRoot(), "cluster-config", "experiments", "lead-logreg.hocon") : null;
        var spec = ExperimentKinds.Load(file, overrides);
        var dir = Path.Combine(Path.GetTempPath(), "actors-tests", "golden-" + Guid.NewGuid().ToString("N"));
        await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), _ => { });
        var actual = File.ReadAllText(Path.Combine(dir, "metrics.csv"));
        var golden = Path.Combine(GoldenDir(), name + ".csv");
        if (Environment.GetEnvironmentVariable("ACTORS_UPDATE_GOLDEN") == "1") File.WriteAllText(golden, actual);
        Assert.True(File.Exists(golden), $"no golden file {golden}: run once with ACTORS_UPDATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(golden), actual);
        Directory.Delete(dir, true);
    }

    private static string GoldenDir([CallerFilePath] string here = "") => Path.GetDirectoryName(here)!;

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Actors.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Actors.sln not found above the test binaries");
    }
}

using Xunit.Abstractions;

namespace Actors.Runtime.Tests.Running;

public class AsynchronySpec(ITestOutputHelper output)
{
    private static readonly string[] Stragglers = ["timing.stragglers.fraction=0.2", "timing.stragglers.slowdown=10"];

    [Fact]
    public async Task Same_seed_gives_byte_identical_metrics_and_another_seed_differs()
    {
        string[] async = ["timing.mode=async", "experiment.steps=120", "timing.latency-distribution=lognormal", "timing.latency-spread-ms=2", .. Stragglers];
        var a = await RunHelper.Run([.. async, "experiment.seed=7"]);
        var b = await RunHelper.Run([.. async, "experiment.seed=7"]);
        var c = await RunHelper.Run([.. async, "experiment.seed=8"]);
        var ma = File.ReadAllBytes(Path.Combine(a.Dir, "metrics.csv"));
        Assert.Equal(ma, File.ReadAllBytes(Path.Combine(b.Dir, "metrics.csv")));
        Assert.NotEqual(ma, File.ReadAllBytes(Path.Combine(c.Dir, "metrics.csv")));
        Assert.Equal(File.ReadAllText(Path.Combine(a.Dir, "config.hocon")), File.ReadAllText(Path.Combine(b.Dir, "config.hocon")));
    }

    [Fact]
    public async Task With_stragglers_async_and_deadline_need_less_than_half_the_virtual_time_of_sync()
    {
        // 10 workers, 2 of them 10x slower; equal numbers of applied updates (600) in every mode.
        var sync = await RunHelper.Run([.. Stragglers, "timing.mode=sync", "experiment.steps=60"]);
        var deadline = await RunHelper.Run([.. Stragglers, "timing.mode=deadline", "timing.quorum=8", "experiment.steps=75"]);
        var async = await RunHelper.Run([.. Stragglers, "timing.mode=async", "experiment.steps=600"]);
        foreach (var (name, r) in new[] { ("sync", sync), ("deadline", deadline), ("async", async) })
            output.WriteLine($"{name}: updates {r.Summary.D("updates_applied")}, virtual {r.Summary.D("virtual_time_s"):0.000} s, accuracy {r.Summary.D("final_test_accuracy"):0.000}");

        Assert.Equal(600, sync.Summary.D("updates_applied"));
        Assert.Equal(600, deadline.Summary.D("updates_applied"));
        Assert.Equal(600, async.Summary.D("updates_applied"));
        Assert.True(deadline.Summary.D("virtual_time_s") < sync.Summary.D("virtual_time_s") / 2);
        Assert.True(async.Summary.D("virtual_time_s") < sync.Summary.D("virtual_time_s") / 2);
        Assert.InRange(deadline.Summary.D("final_test_accuracy"), sync.Summary.D("final_test_accuracy") - 0.03, 1);
        Assert.InRange(async.Summary.D("final_test_accuracy"), sync.Summary.D("final_test_accuracy") - 0.03, 1);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 3)]
    [InlineData(4, 5)]
    public async Task Staleness_bound_is_never_exceeded(int seed, int bound)
    {
        var r = await RunHelper.Run([.. Stragglers, "timing.mode=async", $"timing.max-staleness={bound}", "experiment.steps=150", $"experiment.seed={seed}",
            "timing.latency-distribution=uniform", "timing.latency-spread-ms=1"]);
        Assert.InRange(r.Summary.D("staleness_max"), 0, bound);
        Assert.True(r.Summary["updates_dropped"]!["stale"]!.GetValue<long>() > 0, "stragglers must produce stale updates that get dropped");
    }

    [Theory]
    [InlineData("buffered", "timing.buffer-size=4")]
    [InlineData("deadline", "timing.deadline-ms=15")]
    [InlineData("deadline", "timing.late-updates=carry")]
    public async Task Every_timing_mode_finishes_and_learns(string mode, string setting)
    {
        var r = await RunHelper.Run([.. Stragglers, $"timing.mode={mode}", setting, "timing.quorum=7", "experiment.steps=60"]);
        Assert.Equal(60, r.Summary.D("steps"));
        Assert.True(r.Summary.D("final_test_accuracy") > 0.3, $"accuracy {r.Summary.D("final_test_accuracy")} is no better than chance");
    }
}


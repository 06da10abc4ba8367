using System.Text.Json.Nodes;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.Running;

/// <summary>A run that diverges is a result: every writer accepts NaN and infinities, and the run says where it diverged.</summary>
public class DivergedRunSpec
{
    private static JsonObject Summary(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();

    [Fact]
    public async Task A_run_whose_model_becomes_infinite_writes_null_figures_nan_rows_a_plot_and_the_warning()
    {
        var r = await RunHelper.Run("optimizer.lr=1e38", "experiment.steps=5", "experiment.eval-every=1");
        var s = Summary(r.Dir); // parses: no NaN or Infinity literals
        Assert.Null(s["final_test_loss"]);
        Assert.True(s["diverged"]!.GetValue<bool>());
        Assert.Equal(1, s["diverged_at_step"]!.GetValue<long>());
        Assert.DoesNotContain("NaN", File.ReadAllText(Path.Combine(r.Dir, "summary.json")), StringComparison.Ordinal);
        var rows = File.ReadAllLines(Path.Combine(r.Dir, "metrics.csv"));
        Assert.Contains(rows.Skip(1), l => l.Split(',')[1] is "nan" or "inf");
        Assert.True(File.Exists(Path.Combine(r.Dir, "accuracy.png")));
        Assert.Contains("**Warning: training diverged at step 1", File.ReadAllText(Path.Combine(r.Dir, "summary.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_whose_every_update_is_non_finite_stops_at_that_step_as_diverged_with_the_drops_counted()
    {
        var r = await RunHelper.Run("model.type=mlp", "optimizer.lr=1000", "optimizer.momentum=0.9", "experiment.steps=100", "experiment.eval-every=50");
        var s = Summary(r.Dir);
        Assert.True(s["diverged"]!.GetValue<bool>());
        long at = s["diverged_at_step"]!.GetValue<long>();
        Assert.InRange(at, 1, 99);
        Assert.Equal(at, s["steps"]!.GetValue<long>());
        Assert.True(s["updates_dropped"]!["non_finite"]!.GetValue<long>() >= 10);
        Assert.Contains("every live worker's update was non-finite", File.ReadAllText(Path.Combine(r.Dir, "summary.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("async")]
    [InlineData("buffered")]
    [InlineData("deadline")]
    public async Task Every_timing_mode_stops_a_diverged_run_instead_of_stalling(string mode)
    {
        var r = await RunHelper.Run("model.type=mlp", "optimizer.lr=1000", "optimizer.momentum=0.9", $"timing.mode={mode}", "timing.quorum=7",
            "experiment.steps=3000", "experiment.eval-every=1000");
        Assert.True(Summary(r.Dir)["diverged"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_gossip_run_whose_models_become_non_finite_stops_there_and_writes_its_results()
    {
        var file = Path.Combine(RunHelper.RepoRoot(), "cluster-config", "experiments", "lead-logreg.hocon");
        var spec = ExperimentKinds.Load(file, ["gossip.gamma=50", "experiment.steps=2000"]);
        var dir = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
        var result = await ExperimentRunner.Run(spec, dir, new Actors.Runtime.Engine.RunProgress(spec.Steps), _ => { });
        var s = Summary(dir);
        Assert.True(s["diverged"]!.GetValue<bool>());
        Assert.True(s["steps"]!.GetValue<long>() < 2000);
        Assert.NotNull(result.Warning);
        Assert.True(File.Exists(Path.Combine(dir, "consensus.png")));
    }
}

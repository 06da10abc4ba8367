using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.Pruning;

/// <summary>Pruning through the actors: the aggregator owns the dense weights and the mask, workers get the pruned model sparse.</summary>
public sealed class PruningRunSpec : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "actors-tests", "pruning-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static readonly string[] Small =
    [
        "data.dataset=synthetic", "data.synthetic.train=2000", "data.synthetic.test=500", "model.type=mlp", "experiment.steps=64", "experiment.eval-every=16",
        "workers.honest=4", "optimizer.lr=0.05", "timing.buffer-size=2",
    ];

    private async Task<(JsonObject Summary, string[][] Rows)> Run(string name, params string[] overrides)
    {
        var spec = ExperimentKinds.Load(null, [.. Small, .. overrides]);
        var dir = Path.Combine(_root, name);
        await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), _ => { });
        var rows = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Select(l => l.Split(',')).ToArray();
        return (JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject(), rows);
    }

    [Theory]
    [InlineData("dpf", "sync")]
    [InlineData("magnitude", "async")]
    [InlineData("static", "buffered")] // buffer of 2 (below)
    public async Task A_pruned_run_reaches_the_target_sparsity_and_its_broadcasts_shrink(string type, string timing)
    {
        var (dense, _) = await Run("dense-" + type, $"timing.mode={timing}");
        var (pruned, rows) = await Run(type, $"pruning.type={type}", "pruning.sparsity=0.9", $"timing.mode={timing}", "pruning.end-fraction=0.5", "pruning.every=8", "pruning.start=8");
        Assert.Equal(["sparsity", "pruning_reentries"], rows[0][^2..]);
        double final = pruned["sparsity"]!.GetValue<double>();
        Assert.InRange(final, 0.899, 0.901); // the target, to within 0.1% of the prunable weights
        Assert.Equal(final, double.Parse(rows[^1][^2], CultureInfo.InvariantCulture), 6);
        Assert.True(double.Parse(rows[1][^2], CultureInfo.InvariantCulture) < 0.9, "the sparsity ramps up");
        long Down(JsonObject s) => s["bytes_sent"]!.GetValue<long>() - s["bytes_uplink"]!.GetValue<long>();
        Assert.True(Down(pruned) < 0.6 * Down(dense), $"downlink {Down(pruned)} vs dense {Down(dense)}");
        Assert.True(double.IsFinite(pruned["final_test_loss"]!.GetValue<double>()));
        if (type == "dpf") Assert.True(pruned["pruning_reentries"]!.GetValue<long>() > 0, "DPF's feedback brings weights back");
        else Assert.Equal(0, pruned["pruning_reentries"]!.GetValue<long>());
    }

    [Fact]
    public void Pruning_in_a_gossip_run_or_with_a_compressed_broadcast_is_bad_input_naming_the_key()
    {
        var e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, ["experiment.kind=gossip", "pruning.type=dpf"]));
        Assert.Contains("pruning.type", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, ["pruning.type=dpf", "compression.type=topk", "compression.compress-broadcast=on"]));
        Assert.Contains("compress-broadcast", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, ["pruning.type=lottery"]));
        Assert.Contains("dpf", e.Message, StringComparison.Ordinal);
    }
}

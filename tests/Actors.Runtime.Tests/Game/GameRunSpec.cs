using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.Game;

/// <summary>Games through the parameter-server actors: the exact bilinear rates survive the actors, and the mixture GAN reports its figures.</summary>
public sealed class GameRunSpec : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "actors-tests", "game-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private string? _lastWarning; // of the last run (tests that run one at a time)

    private async Task<(JsonObject Summary, string[][] Rows)> Run(string name, params string[] overrides)
    {
        var spec = ExperimentKinds.Load(null, ["experiment.kind=game", "optimizer.momentum=0", "workers.honest=3", .. overrides]);
        var dir = Path.Combine(_root, name);
        _lastWarning = (await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), _ => { })).Warning;
        var rows = File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Select(l => l.Split(',')).ToArray();
        return (JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject(), rows);
    }

    private static double Distance(string[] row) => double.Parse(row[^1], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Bilinear_rates_through_the_actors_gda_spirals_out_lookahead_and_extragradient_converge()
    {
        string[] common = ["game.type=bilinear", "optimizer.lr=0.3", "experiment.steps=60", "experiment.eval-every=30"];
        var (gda, gdaRows) = await Run("gda", [.. common, "game.optimizer=gda"]);
        Assert.Null(_lastWarning); // a growing player loss is not flagged as a diverged run
        Assert.Equal("distance_to_equilibrium", gdaRows[0][^1]);
        Assert.Equal(Math.Pow(1.09, 15), Distance(gdaRows[2]) / Distance(gdaRows[1]), 4); // 1.044 per step, 30 steps
        var (la, laRows) = await Run("la", [.. common, "game.optimizer=gda", "optimizer.lookahead.k=6", "optimizer.lookahead.alpha=0.5"]);
        Assert.Equal(Math.Pow(0.745, 5), Distance(laRows[2]) / Distance(laRows[1]), 2); // 0.745 per cycle of 6
        var (eg, egRows) = await Run("eg", [.. common, "game.optimizer=extragradient"]);
        Assert.True(Distance(egRows[2]) < 0.6 * Distance(egRows[1]), "extragradient converges");
        Assert.True(gda["distance_to_equilibrium"]!.GetValue<double>() > 10);
        Assert.True(la["distance_to_equilibrium"]!.GetValue<double>() < 0.1);
        Assert.True(eg["steps"]!.GetValue<long>() == 60);
    }

    [Fact]
    public async Task Mixture_gan_trains_through_the_actors_and_reports_modes_and_quality()
    {
        var (summary, rows) = await Run("mixture", "game.type=mixture", "game.optimizer=adam", "optimizer.lr=0.001", "optimizer.lookahead.k=5",
            "experiment.steps=40", "experiment.eval-every=20", "data.batch-size=32", "timing.mode=async");
        Assert.Equal(["modes_covered", "high_quality_fraction"], rows[0][^2..]);
        double covered = summary["modes_covered"]!.GetValue<double>();
        Assert.InRange(covered, 0, 8);
        Assert.InRange(summary["high_quality_fraction"]!.GetValue<double>(), 0, 1);
        Assert.Equal(40, summary["steps"]!.GetValue<long>());
        Assert.Equal(["samples-000000.png", "samples-000020.png", "samples-000040.png"],
            Directory.GetFiles(Path.Combine(_root, "mixture"), "samples-*.png").Select(Path.GetFileName).Order(StringComparer.Ordinal)); // one picture per evaluation
    }

    [Fact]
    public async Task Gan_on_fashion_mnist_reports_a_frechet_distance_that_falls_as_it_trains()
    {
        var (summary, rows) = await Run("gan", "game.type=gan", "data.dataset=fashion-mnist", "game.optimizer=adam", "optimizer.lr=0.0005",
            "experiment.steps=60", "experiment.eval-every=60", "data.batch-size=32", "workers.honest=2");
        Assert.Equal("frechet_distance", rows[0][^1]);
        double first = double.Parse(rows[1][^1], CultureInfo.InvariantCulture), last = summary["frechet_distance"]!.GetValue<double>();
        Assert.True(last < first, $"Frechet distance {first} -> {last}");
        Assert.Contains("fashion-mnist", summary["data_source"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_root, "gan", "samples-000060.png")), "a sample grid per evaluation");
    }

    [Fact]
    public async Task A_run_is_a_function_of_its_seed_also_when_another_run_builds_models_in_the_same_process()
    {
        string[] mixture = ["game.type=mixture", "game.optimizer=adam", "optimizer.lr=0.001", "experiment.steps=30", "experiment.eval-every=30", "data.batch-size=16"];
        var (_, solo) = await Run("solo", mixture);
        // Module initializers draw from torch's global generator: two runs building at once (a sweep) must not mix their draws.
        var pair = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => Run($"pair-{i}", [.. mixture, $"experiment.seed={1 + i % 2}"]))));
        Assert.Equal(string.Join(",", solo[^1]), string.Join(",", pair[0].Rows[^1]));
        Assert.Equal(string.Join(",", solo[^1]), string.Join(",", pair[2].Rows[^1]));
    }

    [Fact]
    public void Bad_game_input_names_the_key()
    {
        var e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, ["experiment.kind=game", "game.type=chess"]));
        Assert.Contains("game.type", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, ["experiment.kind=game", "game.optimizer=extragradient", "timing.mode=async"]));
        Assert.Contains("extragradient", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, ["experiment.kind=game", "game.type=gan", "data.dataset=synthetic"]));
        Assert.Contains("data.dataset", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, ["experiment.kind=game", "workers.byzantine=1", "attack.type=labelflip"]));
        Assert.Contains("labelflip", e.Message, StringComparison.Ordinal);
    }
}

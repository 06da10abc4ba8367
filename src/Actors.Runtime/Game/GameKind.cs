using System.Globalization;
using Actors.Learning.Games;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;

namespace Actors.Runtime.Game;

/// <summary>
/// `experiment.kind = game`: two players (generator, discriminator) trained through the parameter-server actors. Workers
/// compute both players' stochastic gradients on their own samples; the aggregator applies the joint step with the game's
/// optimizer (GDA, Adam, extragradient) and optional lookahead over both players. Stragglers, async staleness, compression,
/// robust aggregators and Byzantine workers apply exactly as in minimization, because the actors are the same.
/// </summary>
public sealed class GameKind : IExperimentKind
{
    public const string KindName = "game";

    public string Name => KindName;

    public bool FlagsLossGrowth => false;

    public void Validate(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        GameSection.Of(spec).Validate(spec);
        ParameterServerParts.CreateAggregator(spec);
    }

    public string? Banner(ExperimentSpec spec) => $"game: {Report(spec).PlotTitle[(spec!.Name.Length + 2)..]} (the model and data of the line above do not apply{(GameSection.Of(spec).Type == "gan" ? ", except the dataset" : "")})";

    public IReadOnlyList<MetricColumn> Columns(ExperimentSpec spec) =>
        [.. GameSection.Of(spec).FigureNames.Select(n => new MetricColumn(n, n == "distance_to_equilibrium" ? MetricColumn.Scientific : MetricColumn.Fixed))];

    public IReadOnlyList<string> MarkdownKeys => ["distance_to_equilibrium", "modes_covered", "high_quality_fraction", "frechet_distance", "staleness_mean"];

    public (string Description, string PlotTitle) Report(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var g = GameSection.Of(spec);
        string lookahead = spec.Optimizer.Lookahead ? string.Create(CultureInfo.InvariantCulture, $" with lookahead (k {spec.Optimizer.LookaheadK}, alpha {spec.Optimizer.LookaheadAlpha})") : "";
        string name = g.Type switch { "mixture" => $"mixture ({g.Mixture}) GAN", "gan" => $"{spec.Data.Dataset} GAN", _ => "bilinear game" };
        return (string.Create(CultureInfo.InvariantCulture,
                $"{name}, {ConfigEnum.Name(g.Optimizer)}{lookahead} at lr {spec.Optimizer.Lr}, {spec.Workers.Honest} honest + {spec.Workers.Byzantine} Byzantine workers, " +
                $"aggregator {spec.Aggregator.Type}, timing {ConfigEnum.Name(spec.Timing.Mode)}, {spec.Mode} mode, seed {spec.Seed}. test_loss is the generator's loss " +
                $"(bilinear: the distance to the equilibrium), test_accuracy the fraction of high-quality samples (mixture)."),
            $"{spec.Name}: {name}, {ConfigEnum.Name(g.Optimizer)}{(spec.Optimizer.Lookahead ? " + lookahead" : "")}");
    }

    public IReadOnlyList<string> WritePlots(string directory, ExperimentSpec spec, string title, IReadOnlyList<MetricsRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var names = GameSection.Of(spec!).FigureNames;
        if (names[0] != "distance_to_equilibrium") return [];
        Output.Plots.LogLines(Path.Combine(directory, "distance.png"), title, "distance to the equilibrium",
            new Dictionary<string, IReadOnlyList<(double X, double Y)>> { ["||z - z*||"] = [.. rows.Where(r => r.Extras.Count > 0).Select(r => ((double)r.Counters.Step, r.Extras[0]))] });
        return ["distance.png"];
    }

    public IKindRun Prepare(ExperimentSpec spec, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Validate(spec);
        var section = GameSection.Of(spec);
        var (game, data, source) = section.Create(spec, warn);
        var trainers = Enumerable.Range(0, spec.Workers.Total)
            .Select(i => (ILocalTrainer)new GameTrainer(game, spec.Data.BatchSize, spec.Optimizer.WorkerMomentum, Seeds.Derive(spec.Seed, "game-worker", i))).ToList();
        IDisposable[] owned = data is null ? [game] : [game, data];
        return ParameterServerParts.Assemble(spec, game.Layout, game.Initial(spec.Seed), source,
            trainers.Take(spec.Workers.Honest).ToList(), trainers.Skip(spec.Workers.Honest).ToList(), new GameEvaluator(game), owned,
            section.ServerOptimizer, section.FigureNames);
    }
}

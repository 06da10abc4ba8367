using Actors.Learning.Games;
using Actors.Learning.Optim;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Game;

/// <summary>`game.optimizer`: each player's base optimizer (both players use the same one; lookahead wraps both together).</summary>
public enum GameOptimizer
{
    Gda,
    Adam,
    Extragradient,
}

/// <summary>The game kind's own section: `game { type, optimizer, beta1, beta2, noise, mixture }`.</summary>
public sealed record GameSection(string Type, GameOptimizer Optimizer, double Beta1, double Beta2, double Noise, string Mixture)
{
    public static readonly string[] Types = ["bilinear", "mixture", "gan"];

    public static GameSection Of(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = new ConfigReader(spec.Config);
        return new GameSection(p.Choice("game.type", Types), p.Enum<GameOptimizer>("game.optimizer"), p.Double("game.beta1", min: 0, max: 0.999999),
            p.Double("game.beta2", min: 0, max: 0.999999), p.Double("game.noise", min: 0), p.Choice("game.mixture", ["ring", "grid"]));
    }

    /// <summary>The figures the game reports (metrics.csv columns after the common ones, summary.json keys).</summary>
    public IReadOnlyList<string> FigureNames => Type switch
    {
        "bilinear" => ["distance_to_equilibrium"],
        "gan" => ["frechet_distance"],
        _ => ["modes_covered", "high_quality_fraction"],
    };

    /// <summary>The game, and what it owns besides itself (a GAN's dataset).</summary>
    public (IGame Game, IDisposable? Data, string Source) Create(ExperimentSpec spec, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(spec);
        switch (Type)
        {
            case "bilinear":
                return (new BilinearGame(Noise), null, "generated (bilinear game)");
            case "gan":
                var data = Learning.Data.DatasetLocator.Load(spec.Data.Dataset, spec.Data.Path, spec.Seed, warn);
                var cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "actors", $"frechet-mlp-{spec.Data.Dataset}.f32");
                return (new ImageGan(data, spec.Seed, cache), data, data.Source);
            default:
                return (new MixtureGame(Mixture, spec.Seed), null, $"generated ({Mixture} mixture)");
        }
    }

    /// <summary>The server's optimizer (null = SGD in ServerModel, which is GDA on the joint field).</summary>
    public IServerOptimizer? ServerOptimizer() => Optimizer switch
    {
        GameOptimizer.Adam => new Adam(Beta1, Beta2),
        GameOptimizer.Extragradient => new Extragradient(),
        _ => null,
    };

    public void Validate(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Type == "gan" && spec.Data.Dataset == "synthetic")
            throw new ExperimentConfigException("game.type = gan trains on images: set data.dataset = fashion-mnist or mnist");
        if (spec.Attack.Type == "labelflip")
            throw new ExperimentConfigException("attack.type = labelflip has no labels to flip in a game (valid: bitflip, ipm, alie, mimic, gaussian and the time-coupled attacks)");
        if (spec.Pruning.Enabled)
            throw new ExperimentConfigException("pruning.type must be none in a game (pruning is for classifiers)");
        if (Optimizer != GameOptimizer.Gda && spec.Optimizer.ServerMomentum)
            throw new ExperimentConfigException($"optimizer.momentum-at = server is not valid with game.optimizer = {ConfigEnum.Name(Optimizer)} (valid: worker, or game.optimizer = gda)");
        if (Optimizer == GameOptimizer.Extragradient && !spec.Timing.VersionedRounds)
            throw new ExperimentConfigException($"game.optimizer = extragradient needs timing.mode = sync or deadline (its two half steps must see one model each), not '{ConfigEnum.Name(spec.Timing.Mode)}'");
    }
}

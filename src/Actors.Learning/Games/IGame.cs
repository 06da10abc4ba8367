using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Games;

/// <summary>
/// A two-player game trained through the parameter server. The flat vector z holds the generator's parameters, then the
/// discriminator's; <see cref="Field"/> is each player's gradient of its own loss on a minibatch, concatenated, so a descent
/// step on it is simultaneous gradient descent-ascent and every aggregator, attack and compressor applies unchanged.
/// </summary>
public interface IGame : IDisposable
{
    /// <summary>Where each parameter tensor of both players sits in z (generator first).</summary>
    ParameterLayout Layout { get; }

    /// <summary>The starting point, from the run's seed.</summary>
    torch.Tensor Initial(long seed);

    /// <summary>Both players' stochastic gradients at <paramref name="z"/> (a new tensor) and the generator's loss.</summary>
    (torch.Tensor Field, double Loss) Field(torch.Tensor z, torch.Generator generator, int batch);

    /// <summary>The names of <see cref="GameScore.Figures"/>, as metrics.csv columns and summary.json keys.</summary>
    IReadOnlyList<string> FigureNames { get; }

    /// <summary>The figures of z off the training path (deterministic: fixed evaluation noise).</summary>
    GameScore Evaluate(torch.Tensor z);
}

/// <summary>An evaluation of a game: a loss for the loss column, a quality figure in [0, 1] for the accuracy column (NaN when none), and the named figures.</summary>
public sealed record GameScore(double Loss, double Quality, IReadOnlyList<double> Figures, Training.SampleSet? Samples = null);

using System.Globalization;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Engine;

/// <summary>
/// Says when a finished run diverged, so a user sees it in the terminal and in summary.md instead of reading a loss of
/// 1e20 as a result: the final test loss is not finite, or more than <see cref="Factor"/> times the initial model's.
/// </summary>
public static class Divergence
{
    public const double Factor = 10;

    /// <summary>A one-paragraph warning, or null when the run did not diverge (or has no initial evaluation).</summary>
    public static string? Describe(ExperimentSpec spec, double initialLoss, double finalLoss, long finalStep)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!double.IsFinite(initialLoss) || (double.IsFinite(finalLoss) && finalLoss <= Factor * initialLoss)) return null;
        var c = spec.Compression;
        string hint = c.ErrorFeedback && c.Type is "randk" or "random-block"
            ? $" With {c.Type} and error feedback each coordinate is sent about once every {1 / c.Ratio:0} steps; " +
              $"such runs need a learning rate about compression.ratio times the uncompressed one (docs/compression.md)."
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"training diverged: the test loss went from {initialLoss:0.###} at step 0 to {finalLoss:G4} at step {finalStep}. " +
            $"A smaller optimizer.lr (now {spec.Optimizer.Lr:G4}) usually helps.{hint}");
    }
}

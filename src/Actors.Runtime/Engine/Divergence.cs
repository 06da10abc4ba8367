using System.Globalization;
using Actors.Runtime.Experiments;
using Actors.Runtime.Protocol;

namespace Actors.Runtime.Engine;

/// <summary>
/// Says when a run diverged, so a user sees it in the terminal and in summary.md instead of reading a loss of 1e20 as a
/// result. A run has diverged (summary.json `diverged`) when its test loss or its model became non-finite, or when it
/// stopped because every live worker's update was non-finite; it is also flagged (a warning, not `diverged`) when its
/// final test loss is more than <see cref="Factor"/> times the initial model's.
/// </summary>
public static class Divergence
{
    public const double Factor = 10;

    /// <param name="Diverged">The loss or the model became non-finite.</param>
    /// <param name="AtStep">The first step where it did, or null.</param>
    /// <param name="Warning">A paragraph for the user (also when the loss only grew more than tenfold), or null.</param>
    public sealed record Finding(bool Diverged, long? AtStep, string? Warning);

    public static Finding Of(ExperimentSpec spec, IReadOnlyList<MetricsRow> rows, TrainingStats stats, bool flagLossGrowth = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(stats);
        long? firstNonFinite = rows.FirstOrDefault(r => !double.IsFinite(r.TestLoss))?.Counters.Step;
        long? at = (firstNonFinite, stats.DivergedAtStep) switch
        {
            (long a, long b) => Math.Min(a, b),
            (long a, null) => a,
            (null, long b) => b,
            _ => null,
        };
        string hint = Hint(spec);
        if (at is { } step)
        {
            string why = stats.DivergedAtStep == step
                ? $"every live worker's update was non-finite (updates_dropped.non_finite = {stats.UpdatesDropped.GetValueOrDefault("non_finite")}), so the run stopped there"
                : "the test loss became non-finite";
            return new Finding(true, step, string.Create(CultureInfo.InvariantCulture,
                $"training diverged at step {step}: {why}. A smaller optimizer.lr (now {spec.Optimizer.Lr:G4}) usually helps.{hint}"));
        }
        return new Finding(false, null, rows.Count < 2 || !flagLossGrowth ? null : Describe(spec, rows[0].TestLoss, rows[^1].TestLoss, rows[^1].Counters.Step));
    }

    /// <summary>A one-paragraph warning when the final test loss is non-finite or more than tenfold the initial one, else null.</summary>
    public static string? Describe(ExperimentSpec spec, double initialLoss, double finalLoss, long finalStep)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!double.IsFinite(initialLoss) || (double.IsFinite(finalLoss) && finalLoss <= Factor * initialLoss)) return null;
        return string.Create(CultureInfo.InvariantCulture,
            $"training diverged: the test loss went from {initialLoss:0.###} at step 0 to {finalLoss:G4} at step {finalStep}. " +
            $"A smaller optimizer.lr (now {spec.Optimizer.Lr:G4}) usually helps.{Hint(spec)}");
    }

    private static string Hint(ExperimentSpec spec)
    {
        var c = spec.Compression;
        return c.ErrorFeedback && c.Type is "randk" or "random-block"
            ? $" With {c.Type} and error feedback each coordinate is sent about once every {1 / c.Ratio:0} steps; " +
              $"such runs need a learning rate about compression.ratio times the uncompressed one (docs/compression.md)."
            : "";
    }
}

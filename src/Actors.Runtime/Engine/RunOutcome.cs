using System.Text.Json.Nodes;
using Actors.Runtime.Protocol;

namespace Actors.Runtime.Engine;

/// <summary>
/// What a finished run hands back to its caller: the totals, the final metrics row, the simulation's event count, and
/// the figures only this experiment kind reports (merged into summary.json after the common ones).
/// </summary>
public sealed record RunOutcome(TrainingStats Stats, MetricsRow Final, long EventsReleased, JsonObject Figures)
{
    /// <summary>The final model and where each tensor sits in it, when the kind hands it back (written as model.safetensors).</summary>
    public (float[] Values, Learning.Models.ParameterLayout Layout)? Model { get; init; }
}

/// <summary>The run could not finish (a child failed, the simulation stalled, a node was lost): exit code 1 with the reason.</summary>
public sealed class RunFailedException(string message) : Exception(message);

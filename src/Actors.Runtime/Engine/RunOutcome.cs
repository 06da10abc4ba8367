using Actors.Runtime.Protocol;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Engine;

/// <summary>What a finished run hands back to its caller.</summary>
public sealed record RunOutcome(TrainingStats Stats, EvaluationResult Final, long EventsReleased);


/// <summary>The run could not finish (a child failed, the simulation stalled, a node was lost): exit code 1 with the reason.</summary>
public sealed class RunFailedException(string message) : Exception(message);

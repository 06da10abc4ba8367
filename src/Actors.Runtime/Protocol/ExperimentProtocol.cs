using Actors.Learning.Wire;

namespace Actors.Runtime.Protocol;

/// <summary>Messages between the coordinator, the aggregator and the evaluator.</summary>
public static class ExperimentProtocol
{
    /// <summary>Counters at a point of the run (everything in metrics.csv except the test figures).</summary>
    public sealed record RunCounters(long Step, long UpdatesApplied, double VirtualTimeS, long MessagesSent, long BytesSent,
        long BytesUplink, long BytesUplinkUncompressed);

    /// <summary>Evaluate this model snapshot off the training path; <paramref name="Extras"/> are the kind's extra metrics.csv values, passed through.</summary>
    public sealed record EvaluateSnapshot(RunCounters Counters, TensorPayload Model, bool Final, IReadOnlyList<double>? Extras = null);

    public sealed record EvaluationResult(RunCounters Counters, double TestLoss, double TestAccuracy, bool Final, IReadOnlyList<double>? Extras = null,
        Learning.Training.SampleSet? Samples = null);

    /// <summary>The aggregator reached experiment.steps; stats are final.</summary>
    /// <summary>The aggregator reached experiment.steps (or stopped); stats are final. <paramref name="Model"/>: the final model (in process only).</summary>
    public sealed record TrainingFinished(TrainingStats Stats, TensorPayload? Model = null);

    /// <summary>Something went wrong that ends the run.</summary>
    public sealed record RunFailed(string Reason);
}

/// <summary>What the aggregator knows at the end of a run.</summary>
/// <param name="DivergedAtStep">Set when the run stopped early because no usable update could arrive any more (every live
/// worker's update was non-finite or malformed): the step it stopped at.</param>
public sealed record TrainingStats(
    long Steps, long UpdatesApplied, double VirtualTimeS,
    IReadOnlyDictionary<string, long> UpdatesDropped,
    double StalenessMean, long StalenessMax, IReadOnlyDictionary<long, long> StalenessHistogram,
    IReadOnlyList<WorkerCounts> PerWorker, long? DivergedAtStep = null);

/// <remarks><paramref name="Sent"/>: the updates the worker sent (cluster runs, from its node's count); null when not counted.</remarks>
public sealed record WorkerCounts(int WorkerId, long Accepted, long Dropped, long? Sent = null);

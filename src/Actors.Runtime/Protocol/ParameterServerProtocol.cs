using Actors.Learning.Wire;

namespace Actors.Runtime.Protocol;

/// <summary>Messages between the aggregator (parameter server), workers and Byzantine workers.</summary>
public static class ParameterServerProtocol
{
    /// <summary>
    /// The server model at a version, sent to workers. With <paramref name="IsDelta"/> the payload is a compressed
    /// difference to the previous broadcast (compression.compress-broadcast), which the worker adds to its copy.
    /// </summary>
    public sealed record ModelBroadcast(long Version, TensorPayload Model, bool IsDelta = false);

    /// <summary>A worker's update computed on model <paramref name="Version"/>. <paramref name="UncompressedBytes"/> is what it would cost uncompressed.</summary>
    public sealed record WorkerUpdate(int WorkerId, long Version, TensorPayload Update, long UncompressedBytes);

    /// <summary>A worker has no update for <paramref name="Version"/> (its federated client vanished): the round does not wait for it.</summary>
    public sealed record WorkerWithheld(int WorkerId, long Version);

    /// <summary>A worker's modelled compute time has elapsed: the computed update may now be sent.</summary>
    public sealed record ComputeDone(long Version);

    /// <summary>The aggregator's round deadline (deadline mode) for the round that started at <paramref name="Version"/>.</summary>
    public sealed record RoundDeadline(long Version);

    /// <summary>
    /// The omniscient attacker's explicit tap: a copy of an honest update as it is sent. Not a learning message
    /// (not counted in bytes_sent).
    /// </summary>
    public sealed record HonestTap(int WorkerId, long Version, TensorPayload Update);

    /// <summary>Wires an actor to its peers once all are created.</summary>
    public sealed record Wire(Akka.Actor.IActorRef Aggregator, IReadOnlyList<Akka.Actor.IActorRef> Workers, IReadOnlyList<Akka.Actor.IActorRef> Byzantine);

    /// <summary>These workers crashed (cluster mode: their node is gone): the live set shrinks, rounds continue with the rest.</summary>
    public sealed record WorkersLost(int[] WorkerIds);

    /// <summary>
    /// The aggregator's state every <c>cluster.checkpoint-every</c> steps, to its parent: the server state at a version (the
    /// model, plus the server momentum with <c>optimizer.momentum-at = server</c>) and the run's totals so far, so an
    /// aggregator that takes over continues the counts instead of starting them at zero.
    /// </summary>
    public sealed record AggregatorCheckpoint(long Version, TensorPayload Model, AggregatorCounters Counters);

    /// <summary>The aggregator's running totals: what summary.json and metrics.csv report.</summary>
    public sealed record AggregatorCounters(long UpdatesApplied, long MessagesSent, long BytesSent, long BytesUplink, long BytesUplinkUncompressed,
        Dictionary<string, long> Drops, SortedDictionary<long, long> Staleness, long[] Accepted, long[] Dropped);

    /// <summary>Starts training: the aggregator broadcasts version 0.</summary>
    public sealed record StartTraining;
}

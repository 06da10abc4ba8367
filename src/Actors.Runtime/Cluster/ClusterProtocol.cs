using Akka.Actor;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>Marker of every control message between cluster nodes; bound to Hyperion (allow-listed) in akka.hocon.</summary>
public interface IClusterMessage;

/// <summary>
/// Control messages of cluster mode: client &lt;-&gt; coordinator singleton &lt;-&gt; node agents. Plain values and arrays only
/// (Hyperion's allow-list must name every type it instantiates). Tensors never travel here.
/// </summary>
public static class ClusterProtocol
{
    /// <summary>Client to coordinator (through the singleton proxy): run this experiment (fully resolved HOCON). Replies go to the sender.</summary>
    public sealed record SubmitRun(string ExperimentHocon) : IClusterMessage;

    public sealed record RunAccepted(string RunId, string AggregatorNode, string[] WorkerNodes) : IClusterMessage;

    /// <summary>The cluster is busy: the run waits its turn (<paramref name="Position"/> 1 = next) behind run <paramref name="Running"/>; <see cref="RunAccepted"/> follows when it starts.</summary>
    public sealed record RunQueued(string RunId, int Position, string Running) : IClusterMessage;

    /// <summary>Aggregator host to coordinator at every evaluation: how far the run is (for <see cref="StatusQuery"/>).</summary>
    public sealed record RunStep(string RunId, long Step) : IClusterMessage;

    /// <summary>A worker to its run's <see cref="ClientStateStoreActor"/>: the stored state of a federated client (answered with <see cref="ClientStateValue"/>).</summary>
    public sealed record GetClientState(int Client) : IClusterMessage;

    /// <summary>
    /// A client's state pushed over the bulk side channel to the node at <paramref name="Host"/>:<paramref name="Port"/> (transfer
    /// <paramref name="Transfer"/> of <paramref name="Size"/> bytes), or none stored (<paramref name="Size"/> = -1).
    /// </summary>
    public sealed record ClientStateValue(string Host, int Port, string Transfer, long Size) : IClusterMessage
    {
        public static readonly ClientStateValue None = new("", 0, "", -1);

        public static ClientStateValue Of(Transport.BulkHandle h) => new(h.Endpoint.Host, h.Endpoint.Port, h.TransferId.ToString("N"), h.Size);

        public Transport.BulkHandle Handle() => new(new Transport.BulkEndpoint(Host, Port), Guid.ParseExact(Transfer, "N"), Size, 0);
    }

    /// <summary>A worker to the store: keep this client's new state (already pushed to the store's node); answered with <see cref="ClientStateStored"/>.</summary>
    public sealed record PutClientState(int Client, ClientStateValue Value) : IClusterMessage;

    public sealed record ClientStateStored(int Client) : IClusterMessage;

    /// <summary>Anyone to coordinator: the members and the runs (queued, running, done); answered with <see cref="ClusterStatus"/>.</summary>
    public sealed record StatusQuery : IClusterMessage;

    public sealed record ClusterStatus(MemberInfo[] Members, RunInfo[] Runs) : IClusterMessage;

    /// <summary>
    /// A cluster member as the coordinator's node sees it: status (Up, Joining, Leaving...), whether it is reachable, and the
    /// learning messages its workers sent per second over the last report (<see cref="NodeLoad"/>; 0 when it hosts none).
    /// </summary>
    public sealed record MemberInfo(string Address, string[] Roles, string Status, bool Reachable, double UpdatesPerSecond = 0) : IClusterMessage;

    /// <summary>Worker host to coordinator, once a second while a run goes: the updates this node's workers have sent so far.</summary>
    /// <remarks>
    /// <paramref name="WorkerIds"/> and <paramref name="Sent"/>: the updates each of the node's workers sent so far (the run's accounting);
    /// <paramref name="Final"/>: the answer to <see cref="FinalTally"/>, the workers stopped, the counts final.
    /// </remarks>
    public sealed record NodeLoad(string RunId, long UpdatesSent, int[]? WorkerIds = null, long[]? Sent = null, bool Final = false) : IClusterMessage;

    /// <summary>Coordinator to a worker node's agent once the last step is applied: stop this run's workers and answer with their final <see cref="NodeLoad"/>.</summary>
    public sealed record FinalTally(string RunId) : IClusterMessage;

    /// <summary>A run: <paramref name="State"/> is queued, running, completed or failed; <paramref name="Outcome"/> the failure reason or "".</summary>
    public sealed record RunInfo(string RunId, string Name, string State, long Step, long Steps, string Outcome) : IClusterMessage;

    /// <summary>The run did not start or ended without a result.</summary>
    public sealed record RunRejected(string Reason) : IClusterMessage;

    /// <summary>Coordinator to the agent of an aggregator node: build the aggregator and evaluator for this run.</summary>
    /// <remarks>
    /// With <paramref name="CheckpointVersion"/> &gt; 0 the aggregator resumes from that checkpoint (a failover), whose chunks the
    /// coordinator sent just before; the agent fills in <paramref name="CheckpointModel"/>.
    /// </remarks>
    public sealed record HostAggregator(string RunId, string ExperimentHocon, IActorRef Coordinator, IActorRef Client, long CheckpointVersion, byte[]? CheckpointModel) : IClusterMessage;

    /// <summary>
    /// Part <paramref name="Index"/> of <paramref name="Count"/> of a checkpoint (TensorPayload bytes of the model at <paramref name="Version"/>):
    /// aggregator host to coordinator every <c>cluster.checkpoint-every</c> steps, and coordinator to the agent of the node that
    /// takes over (before its <see cref="HostAggregator"/>). Chunks stay far below the frame size, so heartbeats keep flowing.
    /// </summary>
    public sealed record CheckpointChunk(string RunId, long Version, int Index, int Count, byte[] Bytes) : IClusterMessage
    {
        public const int ChunkBytes = 128 * 1024;

        public static IEnumerable<CheckpointChunk> Split(string runId, long version, byte[] model)
        {
            ArgumentNullException.ThrowIfNull(model);
            int count = Math.Max(1, (model.Length + ChunkBytes - 1) / ChunkBytes);
            for (int i = 0; i < count; i++)
                yield return new CheckpointChunk(runId, version, i, count, model[(i * ChunkBytes)..Math.Min(model.Length, (i + 1) * ChunkBytes)]);
        }
    }

    /// <summary>Reassembles <see cref="CheckpointChunk"/>s of one checkpoint (a newer version replaces an unfinished older one).</summary>
    public sealed class CheckpointAssembly
    {
        private byte[][] _parts = [];
        private int _received;

        public long Version { get; private set; } = -1;

        /// <summary>Adds a chunk; returns the whole model once every chunk of its version is in.</summary>
        public byte[]? Add(CheckpointChunk c)
        {
            ArgumentNullException.ThrowIfNull(c);
            if (c.Version != Version || _parts.Length != c.Count)
            {
                Version = c.Version;
                _parts = new byte[c.Count][];
                _received = 0;
            }
            if (c.Index < 0 || c.Index >= _parts.Length || _parts[c.Index] is not null) return null;
            _parts[c.Index] = c.Bytes;
            return ++_received == _parts.Length ? [.. _parts.SelectMany(p => p)] : null;
        }
    }

    /// <summary>Coordinator to the agent of a worker node after a failover: point the run's workers at the new aggregator; answered with <see cref="WorkersReady"/>.</summary>
    public sealed record Rewire(string RunId, IActorRef Aggregator) : IClusterMessage;

    public sealed record AggregatorReady(string RunId, IActorRef Host, IActorRef Aggregator, string DataSource, long Parameters) : IClusterMessage;

    /// <summary>
    /// Coordinator to the agent of a worker node: build these workers (ids from <c>workers.honest</c> up are Byzantine), talking to
    /// <paramref name="Aggregator"/> (a gossip run: the peers, reporting to the gossip host). <paramref name="PeerPaths"/>: the workers
    /// these talk to directly, on whichever node (their paths are known before they exist, see <see cref="WorkerPath"/>): the
    /// Byzantine actors an omniscient attack taps the honest updates to; in a gossip run every peer, by id.
    /// </summary>
    public sealed record HostWorkers(string RunId, string ExperimentHocon, int[] WorkerIds, IActorRef Aggregator, IActorRef Coordinator, string[] PeerPaths) : IClusterMessage;

    /// <summary>The full path worker <paramref name="id"/> of run <paramref name="runId"/> has on the node at <paramref name="node"/>.</summary>
    public static string WorkerPath(Address node, string runId, int id) =>
        (new RootActorPath(node) / "user" / NodeAgent.Name / $"workers-{runId}" / $"worker-{id}").ToString();

    /// <summary>The workers exist; <paramref name="Paths"/> are their full actor paths, in the order of <paramref name="WorkerIds"/>.</summary>
    public sealed record WorkersReady(string RunId, int[] WorkerIds, string[] Paths) : IClusterMessage;

    /// <summary>Coordinator to the aggregator host: every worker exists; <paramref name="WorkerPaths"/> indexed by worker id.</summary>
    public sealed record StartRun(string RunId, string[] WorkerPaths, int[] Crashed) : IClusterMessage;

    /// <summary>Coordinator to the aggregator host: these workers' node is gone.</summary>
    public sealed record LoseWorkers(string RunId, int[] WorkerIds, string Node) : IClusterMessage;

    /// <summary>Aggregator host to coordinator: the loss took effect at <paramref name="Step"/>.</summary>
    public sealed record WorkersCrashed(string RunId, CrashEvent Event) : IClusterMessage;

    public sealed record CrashEvent(long Step, int[] Workers, string Node) : IClusterMessage;

    /// <summary>One metrics row, aggregator host to client.</summary>
    public sealed record ClusterEvaluation(long Step, long UpdatesApplied, double VirtualTimeS, long MessagesSent, long BytesSent, long BytesUplink,
        long BytesUplinkUncompressed, double TestLoss, double TestAccuracy, bool Final, double[] Extras) : IClusterMessage
    {
        public static ClusterEvaluation From(EvaluationResult r)
        {
            ArgumentNullException.ThrowIfNull(r);
            var c = r.Counters;
            return new(c.Step, c.UpdatesApplied, c.VirtualTimeS, c.MessagesSent, c.BytesSent, c.BytesUplink, c.BytesUplinkUncompressed, r.TestLoss, r.TestAccuracy, r.Final,
                [.. r.Extras ?? []]);
        }

        public EvaluationResult ToResult() =>
            new(new RunCounters(Step, UpdatesApplied, VirtualTimeS, MessagesSent, BytesSent, BytesUplink, BytesUplinkUncompressed), TestLoss, TestAccuracy, Final, Extras);
    }

    /// <summary>One metrics row of a gossip run, gossip host to client; <paramref name="PerNode"/> is 10 counters per peer (<see cref="Gossip.GossipProtocol.PeerCounters"/> order).</summary>
    public sealed record ClusterGossipEvaluation(long Step, long UpdatesApplied, double VirtualTimeS, long MessagesSent, long BytesSent, long BytesUplink,
        long BytesUplinkUncompressed, double TestLoss, double TestAccuracy, double ConsensusDistance, bool HasSuboptimality, double Suboptimality, int NodesUp,
        long[] PerNode, bool Final) : IClusterMessage
    {
        public static ClusterGossipEvaluation From(Gossip.GossipProtocol.GossipEvaluation e)
        {
            ArgumentNullException.ThrowIfNull(e);
            var c = e.Counters;
            return new(c.Step, c.UpdatesApplied, c.VirtualTimeS, c.MessagesSent, c.BytesSent, c.BytesUplink, c.BytesUplinkUncompressed, e.TestLoss, e.TestAccuracy,
                e.ConsensusDistance, e.Suboptimality is not null, e.Suboptimality ?? double.NaN, e.NodesUp,
                [.. e.PerNode.SelectMany(p => new[] { p.LocalSteps, p.MessagesSent, p.BytesSent, p.Exchanges, p.Dropped, p.Duplicates, p.Stale, p.BrokenCopies, p.ResyncsApplied, p.EdgeResets })],
                e.Final);
        }

        public Gossip.GossipProtocol.GossipEvaluation ToEvaluation() =>
            new(new RunCounters(Step, UpdatesApplied, VirtualTimeS, MessagesSent, BytesSent, BytesUplink, BytesUplinkUncompressed), TestLoss, TestAccuracy,
                ConsensusDistance, HasSuboptimality ? Suboptimality : null, NodesUp,
                [.. PerNode.Chunk(10).Select(v => new Gossip.GossipProtocol.PeerCounters(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]))], Final);
    }

    /// <summary>Gossip host to coordinator: the last step is done (the topology actor's totals; <paramref name="Lost"/>: peers whose node died).</summary>
    public sealed record GossipHostFinished(string RunId, long Steps, long UpdatesApplied, double VirtualTimeS, long Leaves, long Rejoins, int[] Lost) : IClusterMessage;

    /// <summary>Coordinator to client: a gossip run completed.</summary>
    public sealed record GossipRunCompleted(string RunId, long Steps, long UpdatesApplied, double VirtualTimeS, long Leaves, long Rejoins, int[] Lost,
        CrashEvent[] Crashes, string DataSource, long Parameters) : IClusterMessage;

    /// <summary><see cref="Protocol.TrainingStats"/> flattened to arrays for the wire.</summary>
    public sealed record ClusterStats(long Steps, long UpdatesApplied, double VirtualTimeS, string[] DropReasons, long[] DropCounts,
        double StalenessMean, long StalenessMax, long[] StalenessKeys, long[] StalenessCounts, long[] Accepted, long[] Dropped) : IClusterMessage
    {
        public static ClusterStats From(Protocol.TrainingStats s)
        {
            ArgumentNullException.ThrowIfNull(s);
            return new(s.Steps, s.UpdatesApplied, s.VirtualTimeS, [.. s.UpdatesDropped.Keys], [.. s.UpdatesDropped.Values], s.StalenessMean, s.StalenessMax,
                [.. s.StalenessHistogram.Keys], [.. s.StalenessHistogram.Values], [.. s.PerWorker.Select(w => w.Accepted)], [.. s.PerWorker.Select(w => w.Dropped)]);
        }

        public Protocol.TrainingStats ToStats(long[]? sent = null) => new(Steps, UpdatesApplied, VirtualTimeS,
            DropReasons.Zip(DropCounts).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal),
            StalenessMean, StalenessMax, new SortedDictionary<long, long>(StalenessKeys.Zip(StalenessCounts).ToDictionary(p => p.First, p => p.Second)),
            Accepted.Select((a, i) => new Protocol.WorkerCounts(i, a, Dropped[i], sent is not null && i < sent.Length ? sent[i] : null)).ToList());
    }

    /// <summary>Aggregator host to coordinator: the last step is applied and the final evaluation is out.</summary>
    public sealed record AggregatorFinished(string RunId, ClusterStats Stats) : IClusterMessage;

    /// <summary>Coordinator to client: the run is complete.</summary>
    /// <remarks><paramref name="AggregatorRestarts"/>: the checkpoint versions the aggregator resumed from after losing its node.</remarks>
    /// <remarks><paramref name="Sent"/>: the updates each worker sent, as its node last reported (final for the nodes alive at the end); null when unknown.</remarks>
    public sealed record RunCompleted(string RunId, ClusterStats Stats, CrashEvent[] Crashes, long[] AggregatorRestarts, string DataSource, long Parameters,
        long[]? Sent = null) : IClusterMessage;

    /// <summary>Coordinator to client: a membership event that changed the run (a node lost, the aggregator resumed), for the user's terminal.</summary>
    public sealed record RunNotice(string RunId, string Message) : IClusterMessage;

    /// <summary>A node could not build or run its part.</summary>
    public sealed record NodeFailed(string RunId, string Reason) : IClusterMessage;

    /// <summary>Coordinator to every agent of the run: stop and free this run's actors and data.</summary>
    public sealed record EndRun(string RunId) : IClusterMessage;
}

using Actors.Learning.Compression;
using Actors.Learning.Gossip;
using Actors.Learning.Wire;
using Akka.Actor;
using TorchSharp;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>Messages between the gossip coordinator, the TopologyActor, the PeerActors and the gossip evaluator.</summary>
public static class GossipProtocol
{
    /// <summary>Wires a peer to the others (index = node id) and to the topology actor.</summary>
    public sealed record PeerWire(IReadOnlyList<IActorRef> Peers, IActorRef Topology);

    /// <summary>Synchronous mode: run step <paramref name="Step"/> with this mixing row (the node is up).</summary>
    public sealed record BeginStep(long Step, MixingRow Row);

    /// <summary>Asynchronous mode: the node's neighbours from step <paramref name="Step"/> on (sent at start and when they change).</summary>
    public sealed record Neighbours(long Step, MixingRow Row);

    /// <summary>Cluster: neighbours of the step in progress died; mix step <paramref name="Step"/> with this row instead.</summary>
    public sealed record Replan(long Step, MixingRow Row);

    /// <summary>Cluster: these peers' process is gone for good (churn that does not come back).</summary>
    public sealed record PeersLost(int[] Nodes);

    /// <summary>Churn: the node leaves (<paramref name="Up"/> false) or rejoins at <paramref name="Step"/>.</summary>
    public sealed record Availability(long Step, bool Up);

    /// <summary>The peer's modelled compute time for its step (sync) or local step (async) has elapsed.</summary>
    public sealed record PeerComputeDone(long Step);

    /// <summary>Synchronous mode: the peer mixed step <paramref name="Step"/>.</summary>
    public sealed record StepDone(int Node, long Step);

    /// <summary>Asynchronous mode: the peer took one local step.</summary>
    public sealed record LocalStepDone(int Node);

    /// <summary>Send your model (and counters) to the evaluator, as of now.</summary>
    public sealed record SnapshotRequest(long Step, IActorRef ReplyTo);

    /// <summary>What a peer has done so far.</summary>
    public sealed record PeerCounters(long LocalSteps, long MessagesSent, long BytesSent, long Exchanges, long Dropped,
        long Duplicates, long Stale, long BrokenCopies, long ResyncsApplied, long EdgeResets);

    public sealed record PeerSnapshot(int Node, long Step, TensorPayload Model, PeerCounters Counters);

    /// <summary>The topology actor's counters at a measured step; the evaluator pairs them with the peers' snapshots.</summary>
    public sealed record MeasurePoint(RunCounters Counters, int NodesUp, bool Final);

    /// <summary>One metrics row of a gossip run.</summary>
    public sealed record GossipEvaluation(RunCounters Counters, double TestLoss, double TestAccuracy, double ConsensusDistance,
        double? Suboptimality, int NodesUp, IReadOnlyList<PeerCounters> PerNode, bool Final);

    /// <summary>The last step is done; the run's totals.</summary>
    public sealed record GossipFinished(long Steps, long UpdatesApplied, double VirtualTimeS, long Leaves, long Rejoins)
    {
        /// <summary>Peers gone for good (cluster: their node died), ascending.</summary>
        public int[] Lost { get; init; } = [];
    }

    /// <summary>Ends the run after the final snapshots went out (simulation: halts the clock deterministically).</summary>
    public sealed record EndOfRun;

    /// <summary>
    /// A gossip message on the wire: the learning layer's <see cref="GossipMessage"/> with its tensors as
    /// <see cref="TensorPayload"/>s (never tensors or arrays inside an object graph).
    /// </summary>
    public sealed record PeerPacket(int From, int To, long Step, GossipMessageKind Kind, long Sequence, TensorPayload? Compressed, IReadOnlyList<TensorPayload> Dense)
    {
        /// <summary>The learning layer's payload bytes (tensor values, indices, 8 per scalar; headers excluded), as the synchronous driver counts them.</summary>
        public long WireBytes { get; init; }

        public static PeerPacket Of(GossipMessage m) =>
            new(m.From, m.To, m.Step, m.Kind, m.Sequence,
                m.Compressed is null ? null : TensorPayload.FromCompressed(m.Compressed),
                m.Dense?.Select(TensorPayload.FromTensor).ToArray() ?? [])
            { WireBytes = m.WireBytes };

        /// <summary>The message with fresh tensors; dispose them with <see cref="Release"/> after the node received it.</summary>
        public GossipMessage ToMessage()
        {
            CompressedTensor? compressed = Compressed?.ToCompressed();
            IReadOnlyList<torch.Tensor>? dense = Dense.Count == 0 && Kind is not (GossipMessageKind.Projection or GossipMessageKind.PairReply or GossipMessageKind.PairRequest)
                ? null
                : Dense.Select(d => d.ToTensor()).ToArray();
            return new GossipMessage(From, To, Step, Kind, Sequence, compressed, dense);
        }

        public static void Release(GossipMessage m)
        {
            m.Compressed?.Dispose();
            if (m.Dense is not null)
                foreach (var t in m.Dense) t.Dispose();
        }

        /// <summary>Carries learning data for its step (what the synchronous barrier waits for), as opposed to a resync request.</summary>
        public bool IsStepData => Kind is GossipMessageKind.Model or GossipMessageKind.Delta or GossipMessageKind.Full or GossipMessageKind.Projection;
    }
}

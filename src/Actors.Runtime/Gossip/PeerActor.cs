using Actors.Learning.Gossip;
using Actors.Learning.Problems;
using Actors.Learning.Util;
using Actors.Learning.Wire;
using Actors.Runtime.Simulation;
using Akka.Actor;
using TorchSharp;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>
/// One node of decentralized training: owns its <see cref="GossipNode"/> (model and per-edge state), takes local steps
/// with its share of the problem and exchanges messages with its current neighbours through <see cref="INetwork"/>.
/// <para>Synchronous mode: on <see cref="BeginStep"/> it computes its gradient and composes the step's messages, sends them
/// once its modelled compute time has passed, and mixes when every in-neighbour's message of that step is in; then it
/// reports <see cref="StepDone"/>. A node that is down gets no steps and drops what reaches it (as the synchronous driver).</para>
/// <para>Asynchronous pairwise mode (dsgd, powergossip): after each modelled compute time it takes a local step and
/// opens an exchange with one neighbour picked at random among the edges whose token it holds. Each undirected edge has
/// one token (first at the lower id, then passed to the responder with every exchange), so at most one exchange per edge
/// is ever open and two ends never start one at the same time. A down node pauses and keeps what reaches it for when it
/// is back, so an open exchange always completes with equal and opposite updates.</para>
/// Actor-thin: the math is the learning layer's.
/// </summary>
public sealed class PeerActor : SimulatedActor
{
    private readonly int _id;
    private readonly GossipNode _node;
    private readonly IDecentralizedProblem _problem;
    private readonly INetwork _network;
    private readonly IClock _clock;
    private readonly NetworkModel _timing;
    private readonly bool _simulated;
    private readonly long _uncompressedBytes;
    private readonly Random _pick;
    private IReadOnlyList<IActorRef> _peers = [];
    private IActorRef _topology = ActorRefs.Nobody;
    private bool _up = true;

    // Synchronous mode.
    private long _step = -1;
    private IReadOnlyList<int> _expected = [];
    private bool _computed;
    private List<PeerPacket> _outgoing = [];
    private readonly Dictionary<long, HashSet<int>> _arrived = [];

    // Asynchronous mode.
    private MixingRow? _row;
    private readonly Dictionary<int, bool> _token = [];
    private readonly Queue<PeerPacket> _held = [];
    private bool _paused;
    private long _computeIndex;

    private long _localSteps, _messages, _bytes, _exchanges, _dropped;

    public PeerActor(int id, GossipNode node, IDecentralizedProblem problem, INetwork network, IClock clock, NetworkModel timing, bool simulated, long seed)
    {
        _id = id;
        _node = node;
        _problem = problem;
        _network = network;
        _clock = clock;
        _timing = timing;
        _simulated = simulated;
        _uncompressedBytes = node.Model.numel() * node.Model.ElementSize;
        _pick = Seeds.Random(seed, "gossip-pick", id);
        Receive<PeerWire>(w =>
        {
            _peers = w.Peers;
            _topology = w.Topology;
        });
        Receive<BeginStep>(OnBeginStep);
        Receive<PeerComputeDone>(OnComputeDone);
        Receive<PeerPacket>(OnPacket);
        Receive<Availability>(OnAvailability);
        Receive<Neighbours>(OnNeighbours);
        Receive<SnapshotRequest>(r => _network.SendUncounted(r.ReplyTo, new PeerSnapshot(_id, r.Step, TensorPayload.FromTensor(_node.Model), Counters()), Self));
        Receive<Replan>(OnReplan);
    }

    public static Props Props(int id, GossipNode node, IDecentralizedProblem problem, INetwork network, IClock clock, NetworkModel timing, bool simulated, long seed) =>
        Akka.Actor.Props.Create(() => new PeerActor(id, node, problem, network, clock, timing, simulated, seed));

    private bool Asynchronous => _node is IPairwiseGossip && _row is not null;

    private PeerCounters Counters()
    {
        var c = _node.Counters;
        return new PeerCounters(_localSteps, _messages, _bytes, _exchanges, _dropped, c.Duplicates, c.Stale, c.BrokenCopies, c.ResyncsApplied, c.EdgeResets);
    }

    private TimeSpan ComputeTime(long index, DateTime started) =>
        _simulated ? _timing.Compute(_id, index)
        : _timing.IsStraggler(_id) ? (DateTime.UtcNow - started) * (_timing.Slowdown - 1) : TimeSpan.Zero;

    // ---- synchronous steps ----

    private void OnBeginStep(BeginStep b)
    {
        var started = DateTime.UtcNow;
        _step = b.Step;
        _expected = [.. b.Row.InNeighbors.Select(n => n.Neighbor)];
        _computed = false;
        using (var g = _problem.LocalGradient(_id, _node.Model, b.Step))
        using (var outbox = _node.Send(b.Step, g, b.Row))
            _outgoing = outbox.Messages.Select(PeerPacket.Of).ToList();
        _localSteps++;
        _clock.After(ComputeTime(b.Step, started), Self, new PeerComputeDone(b.Step), Self);
    }

    private void OnComputeDone(PeerComputeDone done)
    {
        if (Asynchronous)
        {
            OnAsyncComputeDone();
            return;
        }
        if (done.Step != _step) return;
        foreach (var p in _outgoing) Transmit(p);
        _outgoing = [];
        _computed = true;
        TryMix();
    }

    private void TryMix()
    {
        if (!_computed || _step < 0 || _node.MixedStep == _step) return;
        if (_expected.Count > 0 && !(_arrived.TryGetValue(_step, out var from) && _expected.All(from.Contains))) return;
        _node.Mix(_step);
        _arrived.Remove(_step);
        _clock.After(TimeSpan.Zero, _topology, new StepDone(_id, _step), Self);
    }

    private void Transmit(PeerPacket p)
    {
        _messages++;
        _bytes += p.WireBytes;
        _network.Send(_id, p.To, _peers[p.To], p, Self, p.WireBytes, _uncompressedBytes, LinkKind.Uplink);
    }

    private void OnPacket(PeerPacket p)
    {
        if (p.Kind is GossipMessageKind.PairRequest or GossipMessageKind.PairReply)
        {
            OnPairPacket(p);
            return;
        }
        if (!_up)
        {
            _dropped++;
            return;
        }
        var m = p.ToMessage();
        try
        {
            _node.Receive(m);
        }
        finally
        {
            PeerPacket.Release(m);
        }
        if (p.IsStepData)
        {
            if (!_arrived.TryGetValue(p.Step, out var from)) _arrived[p.Step] = from = [];
            from.Add(p.From);
            TryMix();
        }
    }

    /// <summary>A neighbour died mid-step (cluster): mix this step with the live neighbours under the re-weighted row.</summary>
    private void OnReplan(Replan r)
    {
        if (r.Step != _step || _node.MixedStep == _step || _node.LastSentStep != _step) return;
        _node.Replan(r.Row);
        _expected = [.. r.Row.InNeighbors.Select(n => n.Neighbor)];
        TryMix();
    }

    private void OnAvailability(Availability a)
    {
        _up = a.Up;
        if (!_up || _row is null) return;
        while (_held.Count > 0 && _up) OnPairPacket(_held.Dequeue());
        if (_paused)
        {
            _paused = false;
            _clock.After(ComputeTime(_computeIndex, DateTime.UtcNow), Self, new PeerComputeDone(_computeIndex), Self);
        }
    }

    // ---- asynchronous pairwise gossip ----

    private void OnNeighbours(Neighbours n)
    {
        bool first = _row is null;
        _row = n.Row;
        if (first && _up) _clock.After(ComputeTime(0, DateTime.UtcNow), Self, new PeerComputeDone(0), Self);
    }

    private bool HoldsToken(int peer) => _token.TryGetValue(peer, out var t) ? t : _id < peer;

    private void OnAsyncComputeDone()
    {
        if (!_up)
        {
            _paused = true;
            return;
        }
        var pairwise = (IPairwiseGossip)_node;
        using (var g = _problem.LocalGradient(_id, _node.Model, _computeIndex)) pairwise.LocalStep(g);
        _localSteps++;
        _clock.After(TimeSpan.Zero, _topology, new LocalStepDone(_id), Self);
        var row = _row!;
        var candidates = row.InNeighbors.Select(x => x.Neighbor).Union(row.OutNeighbors).Where(HoldsToken).Order().ToArray();
        if (candidates.Length > 0)
        {
            int j = candidates[_pick.Next(candidates.Length)];
            using var request = pairwise.Initiate(j, _computeIndex);
            _token[j] = false;
            foreach (var m in request.Messages) Transmit(PeerPacket.Of(m));
        }
        _computeIndex++;
        var started = DateTime.UtcNow;
        _clock.After(ComputeTime(_computeIndex, started), Self, new PeerComputeDone(_computeIndex), Self);
    }

    private void OnPairPacket(PeerPacket p)
    {
        if (!_up)
        {
            _held.Enqueue(p);
            return;
        }
        var pairwise = (IPairwiseGossip)_node;
        var m = p.ToMessage();
        try
        {
            if (p.Kind == GossipMessageKind.PairRequest)
            {
                using var reply = pairwise.Respond(m);
                _token[p.From] = true;
                foreach (var r in reply.Messages) Transmit(PeerPacket.Of(r));
            }
            else
            {
                pairwise.Complete(m);
                _exchanges++;
            }
        }
        finally
        {
            PeerPacket.Release(m);
        }
    }

    protected override void PostStop() => _node.Dispose();
}

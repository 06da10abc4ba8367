using Actors.Learning.Gossip;
using Actors.Runtime.Engine;
using Actors.Runtime.Simulation;
using Akka.Actor;
using static Actors.Runtime.Gossip.GossipProtocol;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>
/// Owns the <see cref="ITopology"/> (with its churn schedule) and the step count. Synchronous mode: starts step t on
/// every live peer with its mixing row, waits until all of them mixed (the barrier), tells peers that leave or rejoin,
/// and every eval-every steps asks all peers for a snapshot. Asynchronous mode: a step is n local steps (n = nodes);
/// it sends each peer its neighbours when they change. Everything it sends goes through the clock, so a simulated run
/// is a pure function of (spec, seed).
/// </summary>
public sealed class TopologyActor : SimulatedActor
{
    private readonly LostNodesTopology _topology;
    private readonly IReadOnlyList<IActorRef> _peers;
    private readonly IClock _clock;
    private readonly INetwork _network;
    private readonly IActorRef _evaluator;
    private readonly IActorRef _coordinator;
    private readonly IActorRef _clockActor;
    private readonly RunProgress _progress;
    private readonly long _steps;
    private readonly int _evalEvery;
    private readonly bool _asynchronous;
    private readonly bool[] _up;
    private readonly MixingRow?[] _rows;
    private long _step;
    private readonly HashSet<int> _waiting = [];
    private long _updates;
    private long _leaves, _rejoins;
    private bool _finished;

    public TopologyActor(ITopology topology, IReadOnlyList<IActorRef> peers, IClock clock, INetwork network, IActorRef evaluator,
        IActorRef coordinator, IActorRef clockActor, RunProgress progress, long steps, int evalEvery, bool asynchronous)
    {
        _topology = new LostNodesTopology(topology);
        _peers = peers;
        _clock = clock;
        _network = network;
        _evaluator = evaluator;
        _coordinator = coordinator;
        _clockActor = clockActor;
        _progress = progress;
        _steps = steps;
        _evalEvery = evalEvery;
        _asynchronous = asynchronous;
        _up = Enumerable.Repeat(true, peers.Count).ToArray();
        _rows = new MixingRow?[peers.Count];
        Receive<Start>(_ =>
        {
            if (_asynchronous) UpdateNeighbours(0);
            else BeginStep();
        });
        Receive<StepDone>(OnStepDone);
        Receive<LocalStepDone>(OnLocalStepDone);
        Receive<EndOfRun>(_ => End());
        Receive<PeersLost>(OnPeersLost);
    }

    /// <summary>The first event of virtual time.</summary>
    public sealed record Start;

    public static Props Props(ITopology topology, IReadOnlyList<IActorRef> peers, IClock clock, INetwork network, IActorRef evaluator,
        IActorRef coordinator, IActorRef clockActor, RunProgress progress, long steps, int evalEvery, bool asynchronous) =>
        Akka.Actor.Props.Create(() => new TopologyActor(topology, peers, clock, network, evaluator, coordinator, clockActor, progress, steps, evalEvery, asynchronous));

    private void Send(IActorRef target, object message) => _clock.After(TimeSpan.Zero, target, message, Self);

    /// <summary>Tells peers whose availability changes at step t.</summary>
    private MixingMatrix Availability(long t)
    {
        var w = _topology.At(t);
        for (int i = 0; i < _peers.Count; i++)
        {
            if (w.IsUp(i) == _up[i]) continue;
            _up[i] = w.IsUp(i);
            if (_up[i]) _rejoins++;
            else _leaves++;
            Send(_peers[i], new Availability(t, _up[i]));
        }
        return w;
    }

    // ---- synchronous ----

    private void BeginStep()
    {
        var w = Availability(_step);
        _waiting.Clear();
        for (int i = 0; i < _peers.Count; i++)
        {
            if (!w.IsUp(i)) continue;
            _waiting.Add(i);
            Send(_peers[i], new BeginStep(_step, w.Row(i)));
        }
        if (_waiting.Count == 0) Completed();
    }

    private void OnStepDone(StepDone d)
    {
        if (d.Step != _step || _finished || !_waiting.Remove(d.Node)) return;
        _updates++;
        if (_waiting.Count == 0) Completed();
    }

    // ---- peers gone for good (cluster: their node process died) ----

    private void OnPeersLost(PeersLost l)
    {
        if (_finished || !_topology.Lose(l.Nodes)) return;
        foreach (int i in l.Nodes) _up[i] = false; // not churn: they do not come back
        if (_asynchronous)
        {
            UpdateNeighbours(_step);
            return;
        }
        // The step in progress: the live peers still waiting mix without the lost ones, under the re-weighted rows.
        var w = _topology.At(_step);
        foreach (int i in l.Nodes) _waiting.Remove(i);
        foreach (int i in _waiting) Send(_peers[i], new Replan(_step, w.Row(i)));
        if (_waiting.Count == 0) Completed();
    }

    private void Completed()
    {
        _step++;
        _progress.ReportStep(_step);
        bool last = _step >= _steps;
        if (last || _step % _evalEvery == 0) Measure(last);
        if (last) Finish();
        else BeginStep();
    }

    // ---- asynchronous ----

    private void UpdateNeighbours(long t)
    {
        var w = Availability(t);
        for (int i = 0; i < _peers.Count; i++)
        {
            var row = w.Row(i);
            if (_rows[i] is { } old && old.IsUp == row.IsUp && old.InNeighbors.SequenceEqual(row.InNeighbors) && old.OutNeighbors.SequenceEqual(row.OutNeighbors)) continue;
            _rows[i] = row;
            Send(_peers[i], new Neighbours(t, row));
        }
    }

    private void OnLocalStepDone(LocalStepDone d)
    {
        if (_finished) return;
        _updates++;
        if (_updates % _peers.Count != 0) return;
        _step = _updates / _peers.Count;
        _progress.ReportStep(_step);
        bool last = _step >= _steps;
        if (last || _step % _evalEvery == 0) Measure(last);
        if (last) Finish();
        else UpdateNeighbours(_step);
    }

    // ---- measuring and ending ----

    private void Measure(bool final)
    {
        var s = _network.Stats;
        var counters = new RunCounters(_step, _updates, _clock.Now.TotalSeconds, s.MessagesSent, s.BytesSent, s.BytesUplink, s.BytesUplinkUncompressed);
        _evaluator.Tell(new MeasurePoint(counters, _up.Count(u => u), final));
        foreach (var p in _peers) Send(p, new SnapshotRequest(_step, _evaluator));
    }

    private void Finish()
    {
        _finished = true;
        Send(Self, new EndOfRun());
    }

    private void End()
    {
        // Told before this event's ack: the clock halts before it could release anything after the final snapshots.
        _clockActor.Tell(new SimulationClock.Halt());
        _coordinator.Tell(new GossipFinished(_step, _updates, _clock.Now.TotalSeconds, _leaves, _rejoins) { Lost = [.. _topology.Lost] });
    }
}

using Actors.Learning.Problems;
using Actors.Runtime.Simulation;
using Akka.Actor;
using TorchSharp;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>
/// Off the training path: pairs the topology actor's counters of a measured step with every peer's snapshot, forms the
/// average model x_avg = (1/n) sum_i x_i in float64, and reports its test loss and accuracy, the consensus distance
/// (1/n) sum_i ||x_i - x_avg||^2 and, when f* is known, (f(x_avg) - f*) / f*. Snapshots are taken in event order, so
/// the figures are deterministic even though this actor runs on its own thread.
/// </summary>
public sealed class GossipEvaluatorActor : SimulatedActor
{
    private readonly GossipParts _parts;
    private readonly IActorRef _coordinator;
    private readonly int _nodes;
    private readonly Dictionary<long, MeasurePoint> _points = [];
    private readonly Dictionary<long, PeerSnapshot[]> _snapshots = [];
    private readonly HashSet<int> _lost = [];
    private readonly PeerCounters?[] _lastCounters;

    public GossipEvaluatorActor(GossipParts parts, IActorRef coordinator)
    {
        _parts = parts;
        _coordinator = coordinator;
        _nodes = parts.Nodes.Count;
        _lastCounters = new PeerCounters?[_nodes];
        // Cluster: peers whose process died send no more snapshots; rows average the live peers' models from then on.
        Receive<PeersLost>(l =>
        {
            _lost.UnionWith(l.Nodes);
            foreach (var step in _points.Keys.ToList()) TryEvaluate(step);
        });
        Receive<MeasurePoint>(m =>
        {
            _points[m.Counters.Step] = m;
            TryEvaluate(m.Counters.Step);
        });
        Receive<PeerSnapshot>(s =>
        {
            if (!_snapshots.TryGetValue(s.Step, out var all)) _snapshots[s.Step] = all = new PeerSnapshot[_nodes];
            all[s.Node] = s;
            _lastCounters[s.Node] = s.Counters;
            TryEvaluate(s.Step);
        });
    }

    public static Props Props(GossipParts parts, IActorRef coordinator) => Akka.Actor.Props.Create(() => new GossipEvaluatorActor(parts, coordinator));

    private void TryEvaluate(long step)
    {
        if (!_points.TryGetValue(step, out var point) || !_snapshots.TryGetValue(step, out var all)
            || Enumerable.Range(0, _nodes).Any(i => all[i] is null && !_lost.Contains(i))) return;
        _points.Remove(step);
        _snapshots.Remove(step);
        using var scope = torch.NewDisposeScope();
        var live = all.Where(s => s is not null).ToArray();
        var models = live.Select(s => s.Model.ToTensor().to_type(torch.float64)).ToArray();
        var avg = torch.zeros_like(models[0]);
        foreach (var x in models) avg.add_(x);
        using (var n = ((double)models.Length).ToScalar()) avg.div_(n); // as GossipSimulation.AverageModel, bit for bit
        double consensus = models.Sum(x => x.sub(avg).square().sum().item<double>()) / models.Length;
        double? suboptimality = _parts.HasOptimum ? _parts.Problem.Suboptimality(avg) : null;
        var (loss, accuracy) = _parts.Evaluate(avg.to_type(_parts.Problem.DType));
        var counters = Enumerable.Range(0, _nodes).Select(i => all[i]?.Counters ?? _lastCounters[i] ?? new PeerCounters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).ToArray();
        _coordinator.Tell(new GossipEvaluation(point.Counters, loss, accuracy, consensus, suboptimality, point.NodesUp, counters, point.Final));
    }
}

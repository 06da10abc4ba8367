using Actors.Learning.Problems;
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
public sealed class GossipEvaluatorActor : ReceiveActor
{
    private readonly GossipParts _parts;
    private readonly IActorRef _coordinator;
    private readonly int _nodes;
    private readonly Dictionary<long, MeasurePoint> _points = [];
    private readonly Dictionary<long, PeerSnapshot[]> _snapshots = [];

    public GossipEvaluatorActor(GossipParts parts, IActorRef coordinator)
    {
        _parts = parts;
        _coordinator = coordinator;
        _nodes = parts.Nodes.Count;
        Receive<MeasurePoint>(m =>
        {
            _points[m.Counters.Step] = m;
            TryEvaluate(m.Counters.Step);
        });
        Receive<PeerSnapshot>(s =>
        {
            if (!_snapshots.TryGetValue(s.Step, out var all)) _snapshots[s.Step] = all = new PeerSnapshot[_nodes];
            all[s.Node] = s;
            TryEvaluate(s.Step);
        });
    }

    public static Props Props(GossipParts parts, IActorRef coordinator) => Akka.Actor.Props.Create(() => new GossipEvaluatorActor(parts, coordinator));

    private void TryEvaluate(long step)
    {
        if (!_points.TryGetValue(step, out var point) || !_snapshots.TryGetValue(step, out var all) || all.Any(s => s is null)) return;
        _points.Remove(step);
        _snapshots.Remove(step);
        using var scope = torch.NewDisposeScope();
        var models = all.Select(s => s.Model.ToTensor().to_type(torch.float64)).ToArray();
        var avg = torch.zeros_like(models[0]);
        foreach (var x in models) avg.add_(x);
        using (var n = ((double)_nodes).ToScalar()) avg.div_(n); // as GossipSimulation.AverageModel, bit for bit
        double consensus = models.Sum(x => x.sub(avg).square().sum().item<double>()) / _nodes;
        double? suboptimality = _parts.HasOptimum ? _parts.Problem.Suboptimality(avg) : null;
        var (loss, accuracy) = _parts.Evaluate(avg.to_type(_parts.Problem.DType));
        _coordinator.Tell(new GossipEvaluation(point.Counters, loss, accuracy, consensus, suboptimality, point.NodesUp, all.Select(s => s.Counters).ToArray(), point.Final));
    }
}

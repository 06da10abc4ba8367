using Actors.Learning.Compression;
using Actors.Learning.Problems;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>One measured step of a decentralized run.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="Suboptimality">(f(x_avg) - f*) / f* of the nodes' average model.</param>
/// <param name="ConsensusDistance">Mean over nodes of ||x_i - x_avg||^2.</param>
/// <param name="BytesSent">Payload bytes sent by all nodes so far.</param>
/// <param name="MessagesSent">Messages sent so far.</param>
/// <param name="NodesUp">Nodes up at the last step.</param>
public sealed record GossipStepRecord(long Step, double Suboptimality, double ConsensusDistance, long BytesSent, long MessagesSent, int NodesUp);

/// <summary>What a gossip run reports in `summary.json` (plus the repair counters summed over nodes).</summary>
public sealed record GossipRunSummary(long Steps, double FinalSuboptimality, double ConsensusDistance, double SpectralGap,
    long BytesSent, long MessagesSent, double BytesPerNode, long MessagesDropped, long Duplicates, long ResyncsApplied, long EdgeResets);

/// <summary>Driver knobs that are not algorithm settings.</summary>
/// <param name="Asynchronous">Asynchronous pairwise gossip (dsgd, powergossip): a step is n ticks; each tick a random live node takes a local step and mixes with one random live neighbour.</param>
/// <param name="DropProbability">Each message is lost with this probability (seeded), to exercise resync and edge resets.</param>
/// <param name="DuplicateProbability">Each delivered message is delivered twice with this probability (idempotence).</param>
public sealed record GossipSimulationOptions(bool Asynchronous = false, double DropProbability = 0, double DuplicateProbability = 0);

/// <summary>
/// The plain synchronous driver (no actors): n gossip nodes of one algorithm on a topology, a decentralized problem
/// giving local gradients, messages delivered in-process. What the tests use and what the actor version is compared to.
/// Per step: every live node computes its gradient and sends; messages go to live receivers (maybe dropped or
/// duplicated); every live node mixes. Down nodes are not called at all.
/// </summary>
public sealed class GossipSimulation : IDisposable
{
    private readonly IDecentralizedProblem _problem;
    private readonly Random _network;
    private readonly GossipNode[] _nodes;

    public GossipSimulation(IDecentralizedProblem problem, ITopology topology, GossipSettings settings,
        Func<int, ICompressor>? compressorFor = null, GossipSimulationOptions? options = null)
    {
        if (topology.Nodes != problem.Nodes)
            throw new ArgumentException($"topology has {topology.Nodes} nodes, the problem is split over {problem.Nodes}");
        _options = options ?? new GossipSimulationOptions();
        if (_options.Asynchronous && !GossipAlgorithms.SupportsPairwise(settings.Algorithm))
            throw new ArgumentException($"asynchronous pairwise gossip supports {string.Join(", ", GossipAlgorithms.Names.Where(GossipAlgorithms.SupportsPairwise))}, not {settings.Algorithm}");
        _problem = problem;
        Topology = topology;
        Settings = settings;
        _network = Seeds.Random(settings.Seed, "gossip-network");
        using var x0 = problem.InitialModel();
        _nodes = Enumerable.Range(0, problem.Nodes)
            .Select(i => GossipAlgorithms.Create(settings, i, x0, compressorFor?.Invoke(i), problem.Layout))
            .ToArray();
    }

    public ITopology Topology { get; }

    /// <summary>Driver knobs; may change between steps (e.g. stop dropping messages), but not to or from asynchronous mode.</summary>
    public GossipSimulationOptions Options
    {
        get => _options;
        set
        {
            if (value.Asynchronous != _options.Asynchronous) throw new InvalidOperationException("cannot switch between synchronous and asynchronous gossip mid-run");
            _options = value;
        }
    }

    private GossipSimulationOptions _options = new();
    public GossipSettings Settings { get; }
    public IReadOnlyList<GossipNode> Nodes => _nodes;

    /// <summary>Steps completed.</summary>
    public long Step { get; private set; }

    public long BytesSent { get; private set; }
    public long MessagesSent { get; private set; }
    public long MessagesDropped { get; private set; }
    public int NodesUp { get; private set; }

    public void RunStep()
    {
        long t = Step;
        var w = Topology.At(t);
        var live = Enumerable.Range(0, _nodes.Length).Where(w.IsUp).ToArray();
        NodesUp = live.Length;
        if (Options.Asynchronous) RunPairwiseTicks(t, w, live);
        else RunSynchronous(t, w, live);
        Step = t + 1;
    }

    private void RunSynchronous(long t, MixingMatrix w, int[] live)
    {
        var outboxes = new List<GossipOutbox>();
        try
        {
            foreach (int i in live)
            {
                using var g = _problem.LocalGradient(i, _nodes[i].Model, t);
                outboxes.Add(_nodes[i].Send(t, g, w.Row(i)));
            }
            foreach (var m in outboxes.SelectMany(o => o.Messages))
            {
                MessagesSent++;
                BytesSent += m.WireBytes;
                if (!w.IsUp(m.To) || (Options.DropProbability > 0 && _network.NextDouble() < Options.DropProbability))
                {
                    MessagesDropped++;
                    continue;
                }
                _nodes[m.To].Receive(m);
                if (Options.DuplicateProbability > 0 && _network.NextDouble() < Options.DuplicateProbability) _nodes[m.To].Receive(m);
            }
            foreach (int i in live) _nodes[i].Mix(t);
        }
        finally
        {
            foreach (var o in outboxes) o.Dispose();
        }
    }

    private void RunPairwiseTicks(long t, MixingMatrix w, int[] live)
    {
        if (live.Length == 0) return;
        for (int tick = 0; tick < _nodes.Length; tick++)
        {
            int i = live[_network.Next(live.Length)];
            var node = (IPairwiseGossip)_nodes[i];
            using (var g = _problem.LocalGradient(i, _nodes[i].Model, t)) node.LocalStep(g);
            var peers = Topology.IsDirected
                ? w.InNeighbors(i).Union(w.OutNeighbors(i)).Where(w.IsUp).Order().ToArray()
                : w.InNeighbors(i).Where(w.IsUp).ToArray();
            if (peers.Length == 0) continue;
            int j = peers[_network.Next(peers.Length)];
            using var request = node.Initiate(j, t);
            Count(request);
            using var reply = ((IPairwiseGossip)_nodes[j]).Respond(request.Messages[0]);
            Count(reply);
            node.Complete(reply.Messages[0]);
        }
    }

    private void Count(GossipOutbox outbox)
    {
        MessagesSent += outbox.Messages.Count;
        BytesSent += outbox.WireBytes;
    }

    /// <summary>Runs <paramref name="steps"/> steps, measuring after every <paramref name="recordEvery"/>-th (and the last).</summary>
    public IReadOnlyList<GossipStepRecord> Run(int steps, int recordEvery = 1)
    {
        var records = new List<GossipStepRecord>();
        for (int s = 1; s <= steps; s++)
        {
            RunStep();
            if (s % recordEvery == 0 || s == steps) records.Add(Measure());
        }
        return records;
    }

    public GossipStepRecord Measure()
    {
        using var avg = AverageModel();
        return new GossipStepRecord(Step, _problem.Suboptimality(avg), ConsensusDistance(), BytesSent, MessagesSent, NodesUp);
    }

    /// <summary>The summary fields: `final_suboptimality`, `consensus_distance`, `spectral_gap` (of the topology's first period), bytes.</summary>
    public GossipRunSummary Summary()
    {
        var last = Measure();
        return new GossipRunSummary(Step, last.Suboptimality, last.ConsensusDistance, Gossip.SpectralGap.Of(Topology),
            BytesSent, MessagesSent, (double)BytesSent / _nodes.Length, MessagesDropped,
            _nodes.Sum(n => n.Counters.Duplicates), _nodes.Sum(n => n.Counters.ResyncsApplied), _nodes.Sum(n => n.Counters.EdgeResets));
    }

    /// <summary>x_avg = (1/n) sum_i x_i in float64 (caller owns it).</summary>
    public torch.Tensor AverageModel()
    {
        using var scope = torch.NewDisposeScope();
        var sum = torch.zeros(_nodes[0].Model.numel(), torch.float64);
        foreach (var n in _nodes) sum.add_(n.Model.to_type(torch.float64));
        return sum.div_(_nodes.Length).MoveToOuterDisposeScope();
    }

    /// <summary>Mean over nodes of ||x_i - x_avg||^2.</summary>
    public double ConsensusDistance()
    {
        using var scope = torch.NewDisposeScope();
        var avg = AverageModel();
        double total = 0;
        foreach (var n in _nodes) total += n.Model.to_type(torch.float64).sub(avg).square().sum().item<double>();
        return total / _nodes.Length;
    }

    public void Dispose()
    {
        foreach (var n in _nodes) n.Dispose();
    }
}

using Actors.Learning.Gossip;

namespace Actors.Runtime.Experiments;

/// <summary>`topology { type, nodes, redraw-every, edge-probability, churn { leave-every, down-for, fraction } }`; LeaveEvery 0 = no churn.</summary>
public sealed record TopologySpec(string Type, int Nodes, int RedrawEvery, double EdgeProbability, int LeaveEvery, int DownFor, double ChurnFraction)
{
    public TopologySettings ToSettings() =>
        new(Type, Nodes, RedrawEvery, EdgeProbability, LeaveEvery > 0 ? new ChurnSchedule(LeaveEvery, DownFor, ChurnFraction) : null);
}

/// <summary>`gossip { algorithm, gamma, alpha, resync-every }`.</summary>
public sealed record GossipSpec(string Algorithm, double Gamma, double Alpha, int ResyncEvery);

/// <summary>The decentralized-training part of an experiment (parsed always, validated against the rest only for kind = gossip).</summary>
public sealed partial record ExperimentSpec
{
    public TopologySpec Topology { get; init; } = new("ring", 8, 1, 0.5, 0, 10, 0.125);

    public GossipSpec Gossip { get; init; } = new("dsgd", 1.0, 0.5, 0);

    /// <summary>`data.synthetic.heterogeneity`: per-node feature shift of the convex synthetic problem.</summary>
    public double SyntheticHeterogeneity { get; init; } = 1.0;

    public bool IsGossip => Kind == "gossip";

    private ExperimentSpec WithDecentralized(Reader p)
    {
        var spec = this with
        {
            Topology = new TopologySpec(
                p.Choice("topology.type", TopologyFactory.Types), p.Int("topology.nodes", min: 1), p.Int("topology.redraw-every", min: 1),
                p.Double("topology.edge-probability", min: 0, max: 1), p.Int("topology.churn.leave-every", min: 0),
                p.Int("topology.churn.down-for", min: 1), p.Double("topology.churn.fraction", min: 1e-9, max: 0.999999)),
            Gossip = new GossipSpec(p.Choice("gossip.algorithm", GossipAlgorithms.Names), p.Double("gossip.gamma", min: 1e-12),
                p.Double("gossip.alpha", min: 1e-12, max: 1), p.Int("gossip.resync-every", min: 0)),
            SyntheticHeterogeneity = p.Double("data.synthetic.heterogeneity", min: 0),
        };
        return spec;
    }

    /// <summary>The checks of a gossip run (GossipKind.Validate).</summary>
    public void ValidateGossip()
    {
        var alg = Gossip.Algorithm;
        if (Timing.Mode is not (TimingMode.Sync or TimingMode.Async))
            throw new ExperimentConfigException($"timing.mode = '{ConfigEnum.Name(Timing.Mode)}' is not valid with experiment.kind = gossip (valid: sync = synchronous steps, async = pairwise gossip)");
        if (Timing.Mode == TimingMode.Async && !GossipAlgorithms.SupportsPairwise(alg))
            throw new ExperimentConfigException($"timing.mode = async (pairwise gossip) needs gossip.algorithm = dsgd or powergossip, not '{alg}' (its updates are not per edge)");
        if (Topology.Nodes < 2)
            throw new ExperimentConfigException($"topology.nodes = {Topology.Nodes} is out of range (>= 2 for decentralized training)");
        if (alg is "lead" or "powergossip" && Topology.Type == "one-peer-exponential")
            throw new ExperimentConfigException($"topology.type = one-peer-exponential (directed) is not valid with gossip.algorithm = {alg}: it needs a symmetric W (valid: complete, ring, torus, star, exponential, random)");
        if (Topology.LeaveEvery > 0 && Timing.Mode == TimingMode.Async && Topology.Type == "one-peer-exponential")
            throw new ExperimentConfigException("topology.type = one-peer-exponential with churn is not supported in timing.mode = async");
        if (Model.Type == "logreg" && Model.L2 <= 0)
            throw new ExperimentConfigException($"model.l2 = {Model.L2} is out of range for gossip logreg (> 0: the problem must be strongly convex to have the optimum that final_suboptimality needs)");
        if (Model.DType == "float64" && Model.Type != "logreg")
            throw new ExperimentConfigException($"model.dtype = float64 is only available for model.type = logreg in gossip (got '{Model.Type}'; valid: float32)");
        if (alg == "dsgd" && Compression.Type != "none")
            throw new ExperimentConfigException($"compression.type = '{Compression.Type}' has no effect with gossip.algorithm = dsgd (it sends models uncompressed; valid: none, or use choco/lead/powergossip)");
        if (alg == "powergossip" && Compression.Type is not ("none" or "powersgd"))
            throw new ExperimentConfigException($"compression.type = '{Compression.Type}' is not valid with gossip.algorithm = powergossip (valid: none, powersgd; it takes compression.rank)");
        if (Compression.ErrorFeedback)
            throw new ExperimentConfigException("compression.error-feedback = on is not valid in gossip (valid: off; CHOCO's public copies and LEAD's shift already correct the compression error)");
        if (Optimizer.Momentum != 0)
            throw new ExperimentConfigException($"optimizer.momentum = {Optimizer.Momentum} is not valid in gossip (valid: 0; the gossip rules are plain local steps)");
    }
}

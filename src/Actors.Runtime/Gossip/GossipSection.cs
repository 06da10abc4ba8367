using Actors.Learning.Gossip;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Gossip;

/// <summary>
/// The gossip kind's own section: `topology { type, nodes, redraw-every, edge-probability, churn { leave-every, down-for,
/// fraction } }`, `gossip { algorithm, gamma, alpha, resync-every }` and `data.synthetic.heterogeneity` (the per-node
/// feature shift of the convex synthetic problem). `workers.*` is ignored in gossip runs: `topology.nodes` is the count.
/// </summary>
public sealed record GossipSection(TopologySettings Topology, string Algorithm, double Gamma, double Alpha, int ResyncEvery, double Heterogeneity)
{
    public static GossipSection Of(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = new ConfigReader(spec.Config);
        int leaveEvery = p.Int("topology.churn.leave-every", min: 0);
        var churn = new ChurnSchedule(leaveEvery, p.Int("topology.churn.down-for", min: 1), p.Double("topology.churn.fraction", min: 1e-9, max: 0.999999));
        return new GossipSection(
            new TopologySettings(p.Choice("topology.type", TopologyFactory.Types), p.Int("topology.nodes", min: 1), p.Int("topology.redraw-every", min: 1),
                p.Double("topology.edge-probability", min: 0, max: 1), leaveEvery > 0 ? churn : null),
            p.Choice("gossip.algorithm", GossipAlgorithms.Names), p.Double("gossip.gamma", min: 1e-12), p.Double("gossip.alpha", min: 1e-12, max: 1),
            p.Int("gossip.resync-every", min: 0), p.Double("data.synthetic.heterogeneity", min: 0));
    }

    /// <summary>The learning layer's node settings: this section plus `optimizer.lr`, `compression.rank` and the seed.</summary>
    public GossipSettings Settings(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new(Algorithm, spec.Optimizer.Lr, Gamma, Alpha, ResyncEvery, spec.Compression.Rank, spec.Seed);
    }

    /// <summary>The checks of a gossip run against the rest of the spec.</summary>
    public void Validate(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var alg = Algorithm;
        var (timing, model, compression) = (spec.Timing, spec.Model, spec.Compression);
        if (timing.Mode is not (TimingMode.Sync or TimingMode.Async))
            throw new ExperimentConfigException($"timing.mode = '{ConfigEnum.Name(timing.Mode)}' is not valid with experiment.kind = gossip (valid: sync = synchronous steps, async = pairwise gossip)");
        if (timing.Mode == TimingMode.Async && !GossipAlgorithms.SupportsPairwise(alg))
            throw new ExperimentConfigException($"timing.mode = async (pairwise gossip) needs gossip.algorithm = dsgd or powergossip, not '{alg}' (its updates are not per edge)");
        if (Topology.Nodes < 2)
            throw new ExperimentConfigException($"topology.nodes = {Topology.Nodes} is out of range (>= 2 for decentralized training)");
        if (alg is "lead" or "powergossip" && Topology.Type == "one-peer-exponential")
            throw new ExperimentConfigException($"topology.type = one-peer-exponential (directed) is not valid with gossip.algorithm = {alg}: it needs a symmetric W (valid: complete, ring, torus, star, exponential, random)");
        if (Topology.Churn is not null && timing.Mode == TimingMode.Async && Topology.Type == "one-peer-exponential")
            throw new ExperimentConfigException("topology.type = one-peer-exponential with churn is not supported in timing.mode = async");
        if (model.Type == "logreg" && model.L2 <= 0)
            throw new ExperimentConfigException($"model.l2 = {model.L2} is out of range for gossip logreg (> 0: the problem must be strongly convex to have the optimum that final_suboptimality needs)");
        if (model.DType == "float64" && model.Type != "logreg")
            throw new ExperimentConfigException($"model.dtype = float64 is only available for model.type = logreg in gossip (got '{model.Type}'; valid: float32)");
        if (alg == "dsgd" && compression.Type != "none")
            throw new ExperimentConfigException($"compression.type = '{compression.Type}' has no effect with gossip.algorithm = dsgd (it sends models uncompressed; valid: none, or use choco/lead/powergossip)");
        if (alg == "powergossip" && compression.Type is not ("none" or "powersgd"))
            throw new ExperimentConfigException($"compression.type = '{compression.Type}' is not valid with gossip.algorithm = powergossip (valid: none, powersgd; it takes compression.rank)");
        if (compression.ErrorFeedback)
            throw new ExperimentConfigException("compression.error-feedback = on is not valid in gossip (valid: off; CHOCO's public copies and LEAD's shift already correct the compression error)");
        if (spec.Optimizer.Momentum != 0)
            throw new ExperimentConfigException($"optimizer.momentum = {spec.Optimizer.Momentum} is not valid in gossip (valid: 0; the gossip rules are plain local steps)");
    }
}

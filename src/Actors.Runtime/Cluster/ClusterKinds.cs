using Actors.Learning.Federated;
using Actors.Runtime.Experiments;
using Actors.Runtime.Federated;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Running;

namespace Actors.Runtime.Cluster;

/// <summary>
/// Which experiment kinds run on the cluster: those that train through the parameter-server actors (parameter-server,
/// federated, game), honest and Byzantine workers alike, and gossip (<see cref="GossipHost"/>, <see cref="PeerHost"/>).
/// </summary>
public static class ClusterKinds
{
    /// <summary>Why <paramref name="spec"/> cannot run on the cluster, or null when it can.</summary>
    public static string? Refusal(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind is not ("parameter-server" or FederatedKind.KindName or Game.GameKind.KindName or Gossip.GossipKind.KindName))
            return $"cluster mode runs the parameter-server, federated, game and gossip kinds, not experiment.kind = {spec.Kind}";
        if (spec.Kind == FederatedKind.KindName && FederatedSection.Of(spec).Algorithm == FederatedAlgorithm.Scaffold)
            return "federated.algorithm = scaffold is local only: SCAFFOLD's client state (c_i) lives in the process that hosted the client, " +
                   "and a client is hosted by whichever slot samples it (valid on the cluster: fedavg, fedavgm, fedprox, mime, mimelite)";
        return null;
    }

    /// <summary>Why a run of <paramref name="spec"/> cannot resume on another aggregator node when its node dies, or null when it can.</summary>
    public static string? NoFailover(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind == Gossip.GossipKind.KindName)
            return "a gossip run's topology actor and evaluator live there, and a gossip run does not resume elsewhere";
        if (spec.Kind == FederatedKind.KindName && FederatedSection.Of(spec).Algorithm == FederatedAlgorithm.Mime)
            return "Mime counts its two phases per call on the server and on every client slot, and a restart from a checkpoint would put them out of step";
        return null;
    }

    /// <summary>The learning parts of a node's share of the run, built by the run's kind.</summary>
    public static ParameterServerParts Parts(ExperimentSpec spec, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return ExperimentKinds.Of(spec).Prepare(spec, warn) as ParameterServerParts
               ?? throw new InvalidOperationException($"experiment.kind = {spec.Kind} does not train through the parameter-server actors");
    }
}

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
        if (spec.Kind == FederatedKind.KindName && FederatedSection.Of(spec).Algorithm == FederatedAlgorithm.Scaffold)
            return "SCAFFOLD's client control variates are kept on the aggregator's node (ClientStateStoreActor) and are lost with it";
        return null;
    }

    /// <summary>The learning parts of a node's share of the run, built by the run's kind.</summary>
    public static ParameterServerParts Parts(ExperimentSpec spec, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return ExperimentKinds.Of(spec).Prepare(spec, warn) as ParameterServerParts
               ?? throw new InvalidOperationException($"experiment.kind = {spec.Kind} does not train through the parameter-server actors");
    }

    /// <summary>The federated client population among the parts, whose persistent client state must live where every node reaches it; null for other kinds.</summary>
    public static ClientPopulation? Clients(ParameterServerParts parts) =>
        parts?.Owned.OfType<ClientPopulation>().FirstOrDefault(p => p.Settings.Algorithm == FederatedAlgorithm.Scaffold);
}

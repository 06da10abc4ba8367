using Actors.Runtime.Experiments;
using Akka.Actor;
using Akka.Event;
using static Actors.Runtime.Cluster.ClusterProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// A node's share of one run (aggregator, workers, gossip host, peers): builds its parts and actors from the spec in
/// <see cref="Build"/>. A build that throws, or a child that fails, is reported to the coordinator as <see cref="NodeFailed"/>
/// and stops the host; nothing is restarted (it would rebuild a share of a run nobody waits for).
/// </summary>
internal abstract class RunHost(string runId, IActorRef coordinator, string what) : ReceiveActor
{
    /// <summary>Builds the learning parts and spawns the actors; runs once, before any message.</summary>
    protected abstract void Build();

    /// <summary>The run's spec, with its <c>compute</c> section applied to this node (a device the node cannot use fails the build).</summary>
    protected ExperimentSpec Spec(string hocon)
    {
        var spec = NodeAgent.ParseSpec(hocon);
        if (spec.Compute.Apply() is { } device) Context.GetLogger().Info("run {0}: {1}", runId, device);
        return spec;
    }

    protected sealed override void PreStart()
    {
        try
        {
            Build();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            coordinator.Tell(new NodeFailed(runId, $"{what} on {((ExtendedActorSystem)Context.System).Provider.DefaultAddress}: {e.GetType().Name}: {e.Message}"));
            Context.Stop(Self);
        }
    }

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        coordinator.Tell(new NodeFailed(runId, $"{what}: {e.GetType().Name}: {e.Message}"));
        return Directive.Stop;
    });
}

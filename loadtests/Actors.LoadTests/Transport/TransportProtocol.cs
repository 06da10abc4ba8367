using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace Actors.LoadTests.Transport;

/// <summary>Counts what must stay at zero while tensors move: unreachable members and quarantines.</summary>
internal sealed class HealthCounters
{
    private long _unreachable;
    private long _quarantined;

    public long Unreachable => Interlocked.Read(ref _unreachable);

    public long Quarantined => Interlocked.Read(ref _quarantined);

    public void OnUnreachable() => Interlocked.Increment(ref _unreachable);

    public void OnQuarantined() => Interlocked.Increment(ref _quarantined);
}

/// <summary>Subscribes to cluster reachability and remote quarantine events and counts them.</summary>
internal sealed class HealthWatcher : ReceiveActor
{
    public HealthWatcher(HealthCounters counters, Action<string> report)
    {
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            counters.OnUnreachable();
            report($"UNREACHABLE {m.Member.Address}");
        });
        Receive<QuarantinedEvent>(q =>
        {
            counters.OnQuarantined();
            report($"QUARANTINED {q.Address}");
        });
        Receive<ThisActorSystemQuarantinedEvent>(q =>
        {
            counters.OnQuarantined();
            report($"QUARANTINED-BY {q.RemoteAddress}");
        });
        Receive<object>(_ => { });
    }

    protected override void PreStart()
    {
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.InitialStateAsEvents, typeof(ClusterEvent.IReachabilityEvent));
        Context.System.EventStream.Subscribe(Self, typeof(QuarantinedEvent));
        Context.System.EventStream.Subscribe(Self, typeof(ThisActorSystemQuarantinedEvent));
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }
}

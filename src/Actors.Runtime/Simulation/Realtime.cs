using Akka.Actor;

namespace Actors.Runtime.Simulation;

/// <summary>Wall-clock time; delays through Akka's scheduler.</summary>
public sealed class RealtimeClock(IScheduler scheduler) : IClock
{
    private readonly DateTime _start = DateTime.UtcNow;

    public TimeSpan Now => DateTime.UtcNow - _start;

    public void After(TimeSpan delay, IActorRef target, object message, IActorRef sender)
    {
        if (delay <= TimeSpan.Zero) target.Tell(message, sender);
        else scheduler.ScheduleTellOnce(delay, target, message, sender);
    }
}

/// <summary>Messages are Tells; an optional injected delay models latency on purpose (chaos), otherwise none.</summary>
public sealed class RealtimeNetwork(IScheduler scheduler, NetworkModel? injectedDelay = null) : INetwork
{
    public NetworkStats Stats { get; } = new();

    public void Send(int from, int to, IActorRef target, object message, IActorRef sender, long bytes, long uncompressedBytes, LinkKind kind,
        TimeSpan receiverCost = default)
    {
        Stats.Record(bytes, uncompressedBytes, kind);
        var delay = injectedDelay?.Delivery(from, to, bytes) ?? TimeSpan.Zero;
        if (delay <= TimeSpan.Zero) target.Tell(message, sender);
        else scheduler.ScheduleTellOnce(delay, target, message, sender);
    }
}

/// <summary>Messages become timed events: delivery = now + latency + bytes / bandwidth.</summary>
public sealed class SimulatedNetwork(SimulationScheduler scheduler, NetworkModel model) : INetwork
{
    public NetworkStats Stats { get; } = new();

    public void Send(int from, int to, IActorRef target, object message, IActorRef sender, long bytes, long uncompressedBytes, LinkKind kind,
        TimeSpan receiverCost = default)
    {
        Stats.Record(bytes, uncompressedBytes, kind);
        var link = model.Delivery(from, to, bytes);
        Stats.AddTime(TimeSpan.Zero, receiverCost, link);
        scheduler.After(link + receiverCost, target, message, sender);
    }
}

using Akka.Actor;

namespace Actors.Runtime.Simulation;

/// <summary>
/// A transport's claim on messages before a learning actor sees them (cluster mode: a side-channel handle whose bytes
/// must be fetched first). Registered per actor system through <see cref="InboundHook"/>; absent, messages go straight
/// to the actor's handlers.
/// </summary>
public interface IInboundAdapter
{
    /// <summary>True when <paramref name="message"/> was taken over (the actor's handlers do not see it now).</summary>
    bool TryIntercept(object message, IActorRef self, IActorRef sender, ActorSystem system);
}

/// <summary>The actor system's <see cref="IInboundAdapter"/>, if a transport registered one.</summary>
public sealed class InboundHook : IExtension
{
    public IInboundAdapter? Adapter { get; set; }

    public static InboundHook Get(ActorSystem system) => system.WithExtension<InboundHook, InboundHookProvider>();
}

public sealed class InboundHookProvider : ExtensionIdProvider<InboundHook>
{
    public override InboundHook CreateExtension(ExtendedActorSystem system) => new();
}

/// <summary>A learning message refused undecoded because its sender had too many in flight (the cluster's inbound credit); the receiver counts it.</summary>
public sealed record LearningMessageRefused(Guid TransferId);

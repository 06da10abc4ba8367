using System.Runtime.Serialization;
using Actors.Learning.Wire;
using Actors.Runtime.Simulation;
using Actors.Runtime.Transport;
using Akka.Actor;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// The learning-message seam in cluster mode. Small messages are plain Akka.Remote tells (serialized by
/// <see cref="ParameterServerSerializer"/>); a model broadcast or update bigger than <see cref="BulkThreshold"/> goes over the
/// bulk side channel (<see cref="BulkTransport"/>), so multi-MB tensors never occupy the connection that carries heartbeats:
/// the bytes are pushed to the target's node, then the target gets the <see cref="BulkHandle"/> and claims them
/// (<see cref="SimulatedActor"/> does that for every learning actor, see <see cref="Claim"/>).
/// </summary>
public sealed class ClusterNetwork(ActorSystem system, long bulkThreshold = ClusterNetwork.DefaultBulkThreshold) : INetwork
{
    public const long DefaultBulkThreshold = 256 * 1024;
    public const byte BroadcastCodec = 101, UpdateCodec = 102;

    public NetworkStats Stats { get; } = new();

    public long BulkThreshold { get; } = bulkThreshold;

    public void Send(int from, int to, IActorRef target, object message, IActorRef sender, long bytes, long uncompressedBytes, LinkKind kind)
    {
        ArgumentNullException.ThrowIfNull(target);
        Stats.Record(bytes, uncompressedBytes, kind);
        if (bytes <= BulkThreshold || target.Path.Address.HasLocalScope || message is not (ModelBroadcast or WorkerUpdate))
        {
            target.Tell(message, sender);
            return;
        }
        var codec = message is ModelBroadcast ? BroadcastCodec : UpdateCodec;
        BulkTransport.Get(system).SendAsync(target, ParameterServerSerializer.Encode(message), codec)
            .PipeTo(target, sender, handle => handle, e => new Status.Failure(e));
    }

    /// <summary>Workers count what they send on their own nodes; the aggregator's node counts their updates on arrival.</summary>
    public void Received(long bytes, long uncompressedBytes, LinkKind kind) => Stats.Record(bytes, uncompressedBytes, kind);

    /// <summary>True for a handle that carries a learning message.</summary>
    public static bool IsLearningMessage(object message) => message is BulkHandle { Codec: BroadcastCodec or UpdateCodec };

    /// <summary>Claims the bytes behind a learning-message handle and decodes them; a failed or malformed transfer is <see cref="BulkDropped"/>.</summary>
    public static async Task<object> Claim(ActorSystem system, BulkHandle handle)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(handle);
        var config = system.Settings.Config;
        long max = config.HasPath("actors.tensor-payload.max-elements") ? config.GetLong("actors.tensor-payload.max-elements") : PayloadFormat.MaxElements;
        try
        {
            using var payload = await BulkTransport.Get(system).ReceiveAsync(handle).ConfigureAwait(false);
            var manifest = handle.Codec == BroadcastCodec ? ParameterServerSerializer.BroadcastManifest : ParameterServerSerializer.UpdateManifest;
            return ParameterServerSerializer.Decode(payload.ToArray(), manifest, max);
        }
        catch (Exception e) when (e is SerializationException or BulkTransferException or TimeoutException or OperationCanceledException)
        {
            return new BulkDropped(handle.TransferId, e.Message);
        }
    }
}

/// <summary>
/// Lets every learning actor of a cluster node receive side-channel messages: a <see cref="BulkHandle"/> of a learning
/// message is claimed (its bytes fetched and decoded) and piped back to the actor as the message itself; a transfer that
/// failed (<see cref="BulkDropped"/>) is swallowed (the transport counted it).
/// </summary>
public sealed class ClusterInbound : IInboundAdapter
{
    public bool TryIntercept(object message, IActorRef self, IActorRef sender, ActorSystem system)
    {
        if (ClusterNetwork.IsLearningMessage(message))
        {
            ClusterNetwork.Claim(system, (BulkHandle)message).PipeTo(self, sender);
            return true;
        }
        return message is BulkDropped;
    }
}

/// <summary>Registers <see cref="ClusterInbound"/> when a cluster node's actor system starts (listed in akka.hocon's extensions).</summary>
public sealed class ClusterInboundProvider : ExtensionIdProvider<ClusterInboundRegistration>
{
    public override ClusterInboundRegistration CreateExtension(ExtendedActorSystem system)
    {
        InboundHook.Get(system).Adapter = new ClusterInbound();
        return new ClusterInboundRegistration();
    }
}

/// <summary>The marker extension whose creation registers <see cref="ClusterInbound"/>.</summary>
public sealed class ClusterInboundRegistration : IExtension;

/// <summary>A learning message whose side-channel bytes never came or did not decode; dropped (counted by the serializer or the transport).</summary>
public sealed record BulkDropped(Guid TransferId, string Reason);

using System.Collections.Concurrent;
using System.Runtime.Serialization;
using Actors.Learning.Wire;
using Actors.Runtime.Simulation;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Event;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// The learning-message seam in cluster mode. Small messages are plain Akka.Remote tells (serialized by
/// <see cref="ParameterServerSerializer"/>); a model broadcast or update bigger than <see cref="BulkThreshold"/> goes over the
/// bulk side channel (<see cref="BulkTransport"/>), so multi-MB tensors never occupy the connection that carries heartbeats:
/// the bytes are pushed to the target's node, then the target gets the <see cref="BulkHandle"/> and claims them
/// (<see cref="SimulatedActor"/> does that for every learning actor, see <see cref="Claim"/>).
/// </summary>
/// With <c>timing.realtime-links = on</c> (<paramref name="links"/>), each learning message leaves after its modelled link delay.
/// <remarks>The threshold is <c>actors.cluster.bulk-threshold</c> (akka.hocon) unless given.</remarks>
public sealed class ClusterNetwork(ActorSystem system, NetworkModel? links = null, long? bulkThreshold = null) : INetwork
{
    /// <summary>When the config does not say (akka.hocon does): where the two paths break even in <c>actors-loadtests load transport</c> (docs/load.md).</summary>
    public const long DefaultBulkThreshold = 16 * 1024;

    public const string ThresholdKey = "actors.cluster.bulk-threshold";
    public const byte BroadcastCodec = 101, UpdateCodec = 102, TapCodec = 103, GossipPacketCodec = 104, GossipSnapshotCodec = 105;

    public NetworkStats Stats { get; } = new();

    private readonly ConcurrentDictionary<int, long> _updatesSent = new();

    /// <summary>Worker updates sent through this seam, by worker (resends included): the sending side of a run's accounting.</summary>
    public long UpdatesSentBy(int worker) => _updatesSent.GetValueOrDefault(worker);

    public long BulkThreshold { get; } = bulkThreshold ?? system.Settings.Config.GetByteSize(ThresholdKey) ?? DefaultBulkThreshold;

    public void Send(int from, int to, IActorRef target, object message, IActorRef sender, long bytes, long uncompressedBytes, LinkKind kind,
        TimeSpan receiverCost = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        Stats.Record(bytes, uncompressedBytes, kind);
        if (message is WorkerUpdate) _updatesSent.AddOrUpdate(from, 1, (_, n) => n + 1);
        var delay = links is { ShapesRealtimeLinks: true } ? links.Delivery(from, to, bytes) : TimeSpan.Zero;
        if (delay <= TimeSpan.Zero)
            Deliver(target, message, sender, bytes);
        else
            system.Scheduler.Advanced.ScheduleOnce(delay, () => Deliver(target, message, sender, bytes));
    }

    /// <summary>An honest update's copy for an omniscient attacker, maybe on another node: the updates' transport, uncounted.</summary>
    public void Tap(IActorRef target, object message, IActorRef sender, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(target);
        Deliver(target, message, sender, message is HonestTap t ? t.Update.SizeBytes : 0);
    }

    /// <summary>A gossip snapshot for the evaluator, maybe on another node: the same transport, uncounted.</summary>
    public void SendUncounted(IActorRef target, object message, IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(target);
        Deliver(target, message, sender, message is Gossip.GossipProtocol.PeerSnapshot s ? s.Model.SizeBytes : 0);
    }

    private void Deliver(IActorRef target, object message, IActorRef sender, long bytes)
    {
        byte? codec = message switch
        {
            ModelBroadcast => BroadcastCodec,
            WorkerUpdate => UpdateCodec,
            HonestTap => TapCodec,
            Gossip.GossipProtocol.PeerPacket => GossipPacketCodec,
            Gossip.GossipProtocol.PeerSnapshot => GossipSnapshotCodec,
            _ => null,
        };
        if (bytes <= BulkThreshold || target.Path.Address.HasLocalScope || codec is null)
        {
            target.Tell(message, sender);
            return;
        }
        var encoded = codec >= GossipPacketCodec ? GossipSerializer.Encode(message) : ParameterServerSerializer.Encode(message);
        // A transfer that fails (the link reset, the node gone) loses the message, as Akka.Remote would: the target is not told
        // (it could do nothing about it; a worker resends, see WorkerActor), the sender's node logs it.
        _ = PushAsync(target, encoded, codec.Value, sender);
    }

    private async Task PushAsync(IActorRef target, byte[] encoded, byte codec, IActorRef sender)
    {
        try
        {
            var handle = await BulkTransport.Get(system).SendAsync(target, encoded, codec).ConfigureAwait(false);
            target.Tell(handle, sender);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            system.Log.Warning("a learning message for {0} was lost: the side channel failed ({1})", target.Path, e.GetBaseException().Message);
        }
    }

    /// <summary>Workers count what they send on their own nodes; the aggregator's node counts their updates on arrival.</summary>
    public void Received(long bytes, long uncompressedBytes, LinkKind kind) => Stats.Record(bytes, uncompressedBytes, kind);

    /// <summary>True for a handle that carries a learning message.</summary>
    public static bool IsLearningMessage(object message) => message is BulkHandle { Codec: >= BroadcastCodec and <= GossipSnapshotCodec };

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
            return handle.Codec switch
            {
                GossipPacketCodec => GossipSerializer.Decode(payload.ToArray(), GossipSerializer.PacketManifest, max, (ExtendedActorSystem)system),
                GossipSnapshotCodec => GossipSerializer.Decode(payload.ToArray(), GossipSerializer.SnapshotManifest, max, (ExtendedActorSystem)system),
                BroadcastCodec => ParameterServerSerializer.Decode(payload.ToArray(), ParameterServerSerializer.BroadcastManifest, max),
                UpdateCodec => ParameterServerSerializer.Decode(payload.ToArray(), ParameterServerSerializer.UpdateManifest, max),
                _ => ParameterServerSerializer.Decode(payload.ToArray(), ParameterServerSerializer.TapManifest, max),
            };
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
/// Per-sender credit on worker updates: at most <see cref="MaxClaimsPerSender"/> update claims from one sender to one actor are
/// decoded at a time; an update beyond that (a flooding peer) has its bytes freed undecoded and reaches the actor as
/// <see cref="LearningMessageRefused"/>, so a flood costs the receiving node a bounded amount of decoding and memory whatever
/// its rate. Only updates: a refused update is a counted drop, while a refused broadcast, tap, gossip packet or snapshot would
/// leave its receiver waiting for it.
/// </summary>
public sealed class ClusterInbound : IInboundAdapter
{
    public const int MaxClaimsPerSender = 4;
    private readonly ConcurrentDictionary<(IActorRef Receiver, IActorRef Sender), int> _inFlight = new();

    public bool TryIntercept(object message, IActorRef self, IActorRef sender, ActorSystem system)
    {
        if (ClusterNetwork.IsLearningMessage(message))
        {
            var handle = (BulkHandle)message;
            if (handle.Codec != ClusterNetwork.UpdateCodec)
            {
                ClusterNetwork.Claim(system, handle).PipeTo(self, sender);
                return true;
            }
            var key = (self, sender);
            if (_inFlight.AddOrUpdate(key, 1, (_, n) => n + 1) > MaxClaimsPerSender)
            {
                Done(key);
                self.Tell(new LearningMessageRefused(handle.TransferId), sender);
                _ = Discard(system, handle); // frees the bytes in the background
                return true;
            }
            Claim(system, handle, key).PipeTo(self, sender);
            return true;
        }
        return message is BulkDropped;
    }

    private async Task<object> Claim(ActorSystem system, BulkHandle handle, (IActorRef, IActorRef) key)
    {
        try
        {
            return await ClusterNetwork.Claim(system, handle).ConfigureAwait(false);
        }
        finally
        {
            Done(key);
        }
    }

    private void Done((IActorRef, IActorRef) key)
    {
        if (_inFlight.AddOrUpdate(key, 0, (_, n) => n - 1) <= 0) _inFlight.TryRemove(new KeyValuePair<(IActorRef, IActorRef), int>(key, 0));
    }

    private static async Task Discard(ActorSystem system, BulkHandle handle)
    {
        try
        {
            using var bytes = await BulkTransport.Get(system).ReceiveAsync(handle).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BulkTransferException or TimeoutException or OperationCanceledException)
        {
            // never came or already expired: nothing held
        }
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

using Actors.Runtime.Cluster;
using Actors.Runtime.Simulation;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;

namespace Actors.Runtime.Tests.Cluster;

/// <summary>
/// The per-sender credit of a cluster node's inbound learning messages: a flooding peer gets at most
/// <see cref="ClusterInbound.MaxClaimsPerSender"/> side-channel claims decoded at a time; the rest are refused at once, so the
/// receiving actor counts them instead of the node buffering and decoding without bound.
/// </summary>
public sealed class InboundCreditSpec() : TestKit(ConfigurationFactory.ParseString("""
    akka.loglevel = WARNING
    akka.actor.provider = remote
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
    actors.transport { host = 127.0.0.1, port = 0, unclaimed-timeout = 3s }
    """).WithFallback(BulkTransportSettings.AkkaConfig), "actors")
{
    [Fact]
    public void A_sender_beyond_its_credit_is_refused_at_once_and_another_sender_is_not()
    {
        var inbound = new ClusterInbound();
        var endpoint = BulkTransport.Get(Sys).LocalEndpoint;
        var flooder = CreateTestProbe("flooder");
        var honest = CreateTestProbe("honest");
        // Handles whose bytes never come: their claims stay in flight (until the claim timeout).
        BulkHandle Handle() => new(endpoint, Guid.NewGuid(), 1024, ClusterNetwork.UpdateCodec);

        for (int i = 0; i < ClusterInbound.MaxClaimsPerSender; i++) Assert.True(inbound.TryIntercept(Handle(), TestActor, flooder.Ref, Sys));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // claims pending, nothing refused yet

        var beyond = Handle();
        Assert.True(inbound.TryIntercept(beyond, TestActor, flooder.Ref, Sys));
        var refused = ExpectMsg<LearningMessageRefused>(TimeSpan.FromSeconds(2));
        Assert.Equal(beyond.TransferId, refused.TransferId);
        Assert.Equal(flooder.Ref, LastSender);

        // Another sender has its own credit.
        Assert.True(inbound.TryIntercept(Handle(), TestActor, honest.Ref, Sys));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        // Only updates are held to the credit: a broadcast, tap, gossip packet or snapshot refused would leave its receiver waiting.
        var peer = CreateTestProbe("peer");
        foreach (var codec in new[] { ClusterNetwork.BroadcastCodec, ClusterNetwork.TapCodec, ClusterNetwork.GossipPacketCodec, ClusterNetwork.GossipSnapshotCodec })
            for (int i = 0; i < ClusterInbound.MaxClaimsPerSender + 2; i++)
                Assert.True(inbound.TryIntercept(new BulkHandle(endpoint, Guid.NewGuid(), 1024, codec), TestActor, peer.Ref, Sys));
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }
}

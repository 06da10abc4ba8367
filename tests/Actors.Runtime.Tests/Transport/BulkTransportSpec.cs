using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;

namespace Actors.Runtime.Tests.Transport;

/// <summary>Two ActorSystems on loopback, Akka.Remote for handles, the side channel for the bytes.</summary>
public sealed class BulkTransportSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static Config NodeConfig(string extra = "") => ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        actors.transport { host = 127.0.0.1, port = 0 }
        {{extra}}
        """).WithFallback(BulkTransportSettings.AkkaConfig);

    private readonly ActorSystem _other;

    public BulkTransportSpec()
        : base(NodeConfig(), "actors")
    {
        _other = ActorSystem.Create("actors", NodeConfig());
    }

    protected override void AfterAll()
    {
        _other.Terminate().Wait(Patience);
        base.AfterAll();
    }

    [Fact]
    public async Task Multi_MB_payload_round_trips_between_two_systems_through_a_handle()
    {
        var otherAddress = ((ExtendedActorSystem)_other).Provider.DefaultAddress;
        _other.ActorOf(Props.Create(() => new HashingReceiver()), "receiver");
        var receiver = await Sys.ActorSelection(new RootActorPath(otherAddress) / "user" / "receiver").ResolveOne(Patience);
        var transport = BulkTransport.Get(Sys);

        foreach (var size in new[] { 24 << 20, 4 << 20, 1 })
        {
            var payload = new byte[size];
            new Random(size).NextBytes(payload);
            var handle = await transport.SendAsync(receiver, payload).WaitAsync(Patience);
            Assert.Equal(BulkTransport.Get(_other).LocalEndpoint, handle.Endpoint);
            Assert.Equal(size, handle.Size);

            receiver.Tell(handle, TestActor);
            var reply = await ExpectMsgAsync<string>(Patience);
            Assert.Equal($"{size}:{Convert.ToHexString(SHA256.HashData(payload))}", reply);
        }

        var stats = BulkTransport.Get(_other).Stats;
        Assert.Equal(3, stats.TransfersReceived);
        Assert.Equal(3, stats.TransfersClaimed);
        Assert.Equal(0, stats.Dropped);
        Assert.Equal(0, BulkTransport.Get(_other).BufferedBytes);
    }

    [Fact]
    public async Task Claim_before_arrival_completes_when_the_bytes_land()
    {
        var receiving = BulkTransport.Get(_other);
        var payload = RandomNumberGenerator.GetBytes(3 << 20);
        var sent = BulkTransport.Get(Sys).SendAsync(receiving.LocalEndpoint, payload, codec: 7);
        var handle = await sent.WaitAsync(Patience);
        Assert.Equal(7, handle.Codec);
        using var received = await receiving.ReceiveAsync(handle).WaitAsync(Patience);
        Assert.True(received.Bytes.Span.SequenceEqual(payload));
    }

    [Fact]
    public async Task Garbage_oversized_and_truncated_input_is_dropped_and_counted_and_the_listener_keeps_serving()
    {
        using var node = ActorSystem.Create("actors", NodeConfig("actors.transport { max-transfer-bytes = 1MiB, stall-timeout = 400ms }"));
        var transport = BulkTransport.Get(node);
        var endpoint = transport.LocalEndpoint;

        // Garbage instead of a header: answered Malformed, connection closed.
        Assert.Equal(BulkStatus.Malformed, await SendRawAsync(endpoint, RandomNumberGenerator.GetBytes(64), closeAfter: false));
        // A valid header announcing more than max-transfer-bytes.
        Assert.Equal(BulkStatus.Oversized, await SendRawAsync(endpoint, Header(Guid.NewGuid(), 2 << 20), closeAfter: false));
        // A header that lies: announces 100 kB, sends 1 kB, closes.
        await SendRawAsync(endpoint, [.. Header(Guid.NewGuid(), 100_000), .. new byte[1000]], closeAfter: true);
        // Same, but the peer resets the connection.
        await SendRawAsync(endpoint, [.. Header(Guid.NewGuid(), 100_000), .. new byte[1000]], closeAfter: true, reset: true);
        // Half a header.
        await SendRawAsync(endpoint, Header(Guid.NewGuid(), 10)[..10], closeAfter: true);
        // A transfer that stalls mid-payload with the connection left open: aborted after stall-timeout.
        using (var stalled = await ConnectAsync(endpoint))
        {
            await stalled.SendAsync((byte[])[.. Header(Guid.NewGuid(), 50_000), .. new byte[10]]);
            // Aborted with our bytes unread: a reset or an orderly close, depending on timing.
            var closed = await Record.ExceptionAsync(async () => Assert.Equal(0, await stalled.ReceiveAsync(new byte[1]).WaitAsync(Patience)));
            Assert.True(closed is null or SocketException, closed?.ToString());
        }

        await AwaitAssertAsync(() =>
        {
            var s = transport.Stats;
            Assert.Equal(1, s.DroppedMalformed);
            Assert.Equal(1, s.DroppedOversized);
            Assert.Equal(4, s.DroppedTruncated);
        }, Patience);
        Assert.Equal(0, transport.BufferedBytes);

        // The listener still serves a valid transfer from another node.
        var payload = RandomNumberGenerator.GetBytes(900_000);
        var handle = await BulkTransport.Get(Sys).SendAsync(endpoint, payload).WaitAsync(Patience);
        using var received = await transport.ReceiveAsync(handle).WaitAsync(Patience);
        Assert.True(received.Bytes.Span.SequenceEqual(payload));
        Assert.Equal(1, transport.Stats.TransfersReceived);

        await node.Terminate().WaitAsync(Patience);
    }

    [Fact]
    public async Task Over_capacity_and_unclaimed_transfers_are_refused_or_expire()
    {
        using var node = ActorSystem.Create("actors", NodeConfig(
            "actors.transport { max-transfer-bytes = 2MiB, max-buffered-bytes = 3MiB, unclaimed-timeout = 300ms, receive-timeout = 300ms }"));
        var transport = BulkTransport.Get(node);
        var sender = BulkTransport.Get(Sys);

        await sender.SendAsync(transport.LocalEndpoint, new byte[2 << 20]).WaitAsync(Patience);
        var refused = await Assert.ThrowsAsync<BulkTransferException>(() => sender.SendAsync(transport.LocalEndpoint, new byte[2 << 20]).WaitAsync(Patience));
        Assert.Contains(nameof(BulkStatus.OverCapacity), refused.Message, StringComparison.Ordinal);
        // A transfer larger than the receiver accepts fails on the sender side with the reason, or a reset.
        await Assert.ThrowsAsync<BulkTransferException>(() => sender.SendAsync(transport.LocalEndpoint, new byte[3 << 20]).WaitAsync(Patience));

        // Nobody claims the first transfer: it expires and frees its room.
        await AwaitAssertAsync(() => Assert.Equal(1, transport.Stats.DroppedUnclaimed), Patience);
        Assert.Equal(0, transport.BufferedBytes);

        // A claim whose bytes never come fails after receive-timeout.
        var ghost = new BulkHandle(transport.LocalEndpoint, Guid.NewGuid(), 10, 0);
        await Assert.ThrowsAsync<TimeoutException>(() => transport.ReceiveAsync(ghost).WaitAsync(Patience));
        Assert.Equal(1, transport.Stats.ReceiveTimeouts);

        await node.Terminate().WaitAsync(Patience);
    }

    [Fact]
    public async Task Connections_beyond_max_connections_are_closed_and_counted()
    {
        using var node = ActorSystem.Create("actors", NodeConfig("actors.transport.max-connections = 2"));
        var transport = BulkTransport.Get(node);
        using var first = await ConnectAsync(transport.LocalEndpoint);
        using var second = await ConnectAsync(transport.LocalEndpoint);
        using var third = await ConnectAsync(transport.LocalEndpoint);

        var closed = await Record.ExceptionAsync(async () => Assert.Equal(0, await third.ReceiveAsync(new byte[1]).WaitAsync(Patience)));
        Assert.True(closed is null or SocketException, closed?.ToString());
        Assert.Equal(1, transport.Stats.ConnectionsRejected);

        // The admitted connections still carry transfers.
        var id = Guid.NewGuid();
        await first.SendAsync((byte[])[.. Header(id, 3), 1, 2, 3]).WaitAsync(Patience);
        var status = new byte[1];
        Assert.Equal(1, await first.ReceiveAsync(status).WaitAsync(Patience));
        Assert.Equal(BulkStatus.Accepted, (BulkStatus)status[0]);
        using var payload = await transport.ReceiveAsync(new BulkHandle(transport.LocalEndpoint, id, 3, 0)).WaitAsync(Patience);
        Assert.Equal([1, 2, 3], payload.ToArray());

        await node.Terminate().WaitAsync(Patience);
    }

    private static byte[] Header(Guid id, long length)
    {
        var header = new byte[BulkFrameHeader.Size];
        new BulkFrameHeader(id, length, 0).Write(header);
        return header;
    }

    private static async Task<Socket> ConnectAsync(BulkEndpoint endpoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint.Host, endpoint.Port).WaitAsync(Patience);
        return socket;
    }

    /// <summary>Sends raw bytes; returns the status byte the listener answered, if any (-1 when it just closed).</summary>
    private static async Task<BulkStatus?> SendRawAsync(BulkEndpoint endpoint, byte[] bytes, bool closeAfter, bool reset = false)
    {
        using var socket = await ConnectAsync(endpoint);
        await socket.SendAsync(bytes).WaitAsync(Patience);
        if (closeAfter)
        {
            if (reset)
            {
                socket.LingerState = new LingerOption(true, 0);
            }

            socket.Close();
            return null;
        }

        var status = new byte[1];
        var got = await socket.ReceiveAsync(status).WaitAsync(Patience);
        return got == 1 ? (BulkStatus)status[0] : null;
    }

    /// <summary>Claims the bytes behind a handle and answers "size:sha256" (never blocks: PipeTo).</summary>
    private sealed class HashingReceiver : ReceiveActor
    {
        public HashingReceiver()
        {
            Receive<BulkHandle>(handle => BulkTransport.Get(Context.System).ReceiveAsync(handle)
                .PipeTo(Self, Sender, payload => new Arrived(payload), e => new Status.Failure(e)));
            Receive<Arrived>(a =>
            {
                using var payload = a.Payload;
                Sender.Tell($"{payload.Length}:{Convert.ToHexString(SHA256.HashData(payload.Bytes.Span))}");
            });
        }

        private sealed record Arrived(BulkPayload Payload);
    }
}

using System.Security.Cryptography;
using Actors.Runtime.Cluster;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Configuration;
using Xunit.Abstractions;

namespace Actors.Runtime.Tests.Fuzzing;

/// <summary>Randomized fuzzing beyond the tensor format: the learning-message envelope and the side channel's framing.</summary>
public sealed class FuzzSpec(ITestOutputHelper output) : IDisposable
{
    private static Config NodeConfig(string extra = "") => ConfigurationFactory.ParseString($$"""
        akka.loglevel = ERROR
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        actors.transport { host = 127.0.0.1, port = 0, stall-timeout = 2s }
        {{extra}}
        """).WithFallback(BulkTransportSettings.AkkaConfig);

    private readonly ActorSystem _node = ActorSystem.Create("actors", NodeConfig());
    private readonly ActorSystem _peer = ActorSystem.Create("actors", NodeConfig());

    public void Dispose()
    {
        _node.Terminate().Wait(TimeSpan.FromSeconds(15));
        _peer.Terminate().Wait(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void Mutated_envelopes_are_rejected_as_serialization_errors_or_decode_to_a_usable_message()
    {
        var result = EnvelopeFuzzer.Run(EnvelopeFuzzer.Samples(), cases: 4000, seed: 11);
        output.WriteLine($"{result.Cases} cases: {result.Rejected} rejected, {result.Accepted} accepted");
        Assert.True(result.Rejected > result.Cases / 2, "most mutations must be caught");
        Assert.True(result.Accepted > 0, "some mutations (values only) decode: the fuzzer reaches past the checks");
    }

    [Fact(Timeout = 240_000)]
    public async Task Fuzzed_frames_cost_only_their_connection_and_the_listener_keeps_serving_its_other_peers()
    {
        var listener = BulkTransport.Get(_node);
        var before = listener.Stats;
        var result = await FrameFuzzer.RunAsync(listener.LocalEndpoint, cases: 1500, seed: 5, perCase: TimeSpan.FromSeconds(5));
        var after = listener.Stats;
        output.WriteLine($"{result.Cases} connections: {result.StatusBytes} status bytes, {result.ClosedByListener} closed; dropped {after.Dropped - before.Dropped}, " +
                         $"received {after.TransfersReceived - before.TransfersReceived}");
        Assert.Equal(result.Cases, result.ClosedByListener); // every case ended: answered and closed, none left hanging
        Assert.True(after.Dropped > before.Dropped, "malformed, oversized, duplicate and truncated frames are counted");

        // A legitimate peer is still served, through the same listener, and gets its bytes back whole.
        var payload = RandomNumberGenerator.GetBytes(3 << 20);
        var handle = await BulkTransport.Get(_peer).SendAsync(listener.LocalEndpoint, payload).WaitAsync(TimeSpan.FromSeconds(30));
        using var received = await listener.ReceiveAsync(handle).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(received.Bytes.Span.SequenceEqual(payload));
        Assert.False(_node.WhenTerminated.IsCompleted);
    }
}

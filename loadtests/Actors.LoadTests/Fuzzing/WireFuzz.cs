using System.Diagnostics;
using System.Globalization;
using Actors.Learning.Util;
using Actors.Runtime.Cluster;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.LoadTests.Fuzzing;

/// <summary>
/// The long fuzz runs beyond the tensor format: the learning-message envelope (ParameterServerSerializer) and the side
/// channel's framing against a real listener on loopback, after which a legitimate 1 MB transfer must still succeed.
/// Usage: fuzz [envelope-cases=100000] [frame-cases=100000] [seed=20261206].
/// </summary>
public static class WireFuzz
{
    public static async Task<int> Run(string[] args)
    {
        int envelopeCases = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        int frameCases = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        int seed = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20261206;
        TorchSetup.Initialize(1);

        var sw = Stopwatch.StartNew();
        var samples = EnvelopeFuzzer.Samples(seed);
        var envelope = EnvelopeFuzzer.Run(samples, envelopeCases, seed);
        Console.WriteLine($"envelope fuzz: {envelope.Cases:N0} mutated envelopes from {samples.Count} valid ones in {sw.Elapsed.TotalSeconds:F1} s: " +
                          $"{envelope.Rejected:N0} rejected with SerializationException, {envelope.Accepted:N0} decoded and decompressed, nothing else escaped");

        var config = ConfigurationFactory.ParseString("""
            akka.loglevel = ERROR
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            actors.transport { host = 127.0.0.1, port = 0, stall-timeout = 2s }
            """).WithFallback(BulkTransportSettings.AkkaConfig);
        using var node = ActorSystem.Create("actors", config);
        using var peer = ActorSystem.Create("actors", config);
        var listener = BulkTransport.Get(node);
        var before = listener.Stats;
        sw.Restart();
        var frames = await FrameFuzzer.RunAsync(listener.LocalEndpoint, frameCases, seed, TimeSpan.FromSeconds(5));
        var after = listener.Stats;
        var payload = new byte[1 << 20];
        new Random(seed).NextBytes(payload);
        var handle = await BulkTransport.Get(peer).SendAsync(listener.LocalEndpoint, payload).WaitAsync(TimeSpan.FromSeconds(30));
        using var received = await listener.ReceiveAsync(handle).WaitAsync(TimeSpan.FromSeconds(30));
        bool served = received.Bytes.Span.SequenceEqual(payload);
        Console.WriteLine($"frame fuzz: {frames.Cases:N0} fuzzed connections in {sw.Elapsed.TotalSeconds:F1} s: {frames.ClosedByListener:N0} ended by the listener, " +
                          $"{after.Dropped - before.Dropped:N0} frames dropped and counted, {after.TransfersReceived - before.TransfersReceived:N0} well-formed transfers received; " +
                          $"a legitimate 1 MB transfer afterwards: {(served ? "served intact" : "FAILED")}");
        await Task.WhenAll(node.Terminate(), peer.Terminate());
        return served && frames.ClosedByListener == frames.Cases ? 0 : 1;
    }
}

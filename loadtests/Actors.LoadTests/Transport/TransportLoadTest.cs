using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Runtime.Cluster;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Cluster;
using HdrHistogram;

namespace Actors.LoadTests.Transport;

/// <summary>
/// `transport`: moves multi-MB tensors between two cluster nodes (this process and a child process)
/// over (1) raw loopback TCP, (2) the bulk side channel with handles and acknowledgements through
/// Akka, (3) optionally naive Akka messages; prints MiB/s, the side-channel/raw ratio, latency
/// percentiles, and the unreachable/quarantine events seen meanwhile.
/// </summary>
internal static class TransportLoadTest
{
    public const string NodeVerb = "transport-node";
    private const double MiB = 1 << 20;

    private sealed record Options(double TotalMiB, int[] SizesMiB, int Window, double NaiveMiB, double SoakSeconds, int Rounds, string[] Sets);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help"))
        {
            Console.WriteLine("""
                actors-loadtests transport [--total-mb 400] [--sizes 4,25] [--window 4] [--naive-mb 100] [--soak-s 10] [--rounds 3] [--set k=v]...
                  --total-mb  MiB per measured pass (raw TCP, then side channel)
                  --sizes     payload sizes in MiB, cycled
                  --window    transfers in flight on the side channel (and raw TCP connections)
                  --naive-mb  MiB as byte[] Akka messages for contrast (0 = skip)
                  --soak-s    seconds of sustained side-channel load while watching reachability
                  --rounds    alternating raw/side-channel rounds; the medians are compared
                  --set       config override for both nodes (e.g. actors.transport.connections-per-endpoint=8)
                """);
            return 0;
        }

        var options = Parse(args);
        var health = new HealthCounters();
        var childHealth = new HealthCounters();
        var config = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["seed"],
            Port = 0,
            Environment = new Dictionary<string, string?>(),
            Overrides = [.. CommonOverrides(options), $"actors.transport.connections-per-endpoint={options.Window}"],
        });
        using var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        var cluster = Cluster.Get(system);
        await cluster.JoinAsync(cluster.SelfAddress).WaitAsync(TimeSpan.FromSeconds(30));
        system.ActorOf(Props.Create(() => new HealthWatcher(health, line => Console.WriteLine($"  [this node] {line}"))), "health");

        using var child = StartChild(cluster.SelfAddress, options.Sets, out var ready, childHealth);
        try
        {
            var (rawPort, childAddress) = await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await WaitUntilUpAsync(cluster, 2, TimeSpan.FromSeconds(60));
            var sink = await system.ActorSelection(new RootActorPath(childAddress) / "user" / "sink").ResolveOne(TimeSpan.FromSeconds(10));
            var source = system.ActorOf(Props.Create(() => new SourceActor(sink)), "source");

            var payloads = Payloads(options.SizesMiB, options.TotalMiB);
            var totalBytes = payloads.Sum(p => (long)p.Length);
            Console.WriteLine($"transport: {payloads.Count} payloads of {string.Join(" and ", options.SizesMiB.Select(s => $"{s} MiB"))}, "
                + $"{totalBytes / MiB:F0} MiB per pass; receiver node is a separate process ({childAddress}); "
                + $"{Environment.ProcessorCount} cores; side-channel window {options.Window}");

            // Warm up every path (JIT, connections, endpoint resolution) before measuring.
            await RawAsync(rawPort, payloads.Take(4).ToList(), options.Window);
            await BatchAsync(source, TransferPath.SideChannel, payloads.Take(4).ToList(), options.Window, TimeSpan.FromMinutes(1));

            // Raw and side channel alternate for several rounds and each reports its median round: the
            // machine is shared, so a burst of load from elsewhere should not decide the ratio.
            var raws = new List<TimeSpan>();
            var sides = new List<BatchResult>();
            var (u0, q0) = (health.Unreachable + childHealth.Unreachable, health.Quarantined + childHealth.Quarantined);
            for (var round = 0; round < options.Rounds; round++)
            {
                raws.Add(await RawAsync(rawPort, payloads, options.Window));
                sides.Add(await BatchAsync(source, TransferPath.SideChannel, payloads, options.Window, TimeSpan.FromMinutes(5)));
                Console.WriteLine($"  round {round + 1}: raw {totalBytes / MiB / raws[^1].TotalSeconds:F0} MiB/s, "
                    + $"side channel {totalBytes / MiB / sides[^1].Elapsed.TotalSeconds:F0} MiB/s");
            }

            var raw = raws.Order().ElementAt(raws.Count / 2);
            var side = sides.OrderBy(r => r.Elapsed).ElementAt(sides.Count / 2);
            Report($"raw loopback TCP ({options.Window} connections, no acks)", totalBytes, raw, null);
            Report("side channel (handles + acks via Akka)", side.Bytes, side.Elapsed, side.LatencyMicros);
            var ratio = (side.Bytes / side.Elapsed.TotalSeconds) / (totalBytes / raw.TotalSeconds);
            Console.WriteLine($"ratio side-channel/raw (medians of {options.Rounds} alternating rounds): {ratio:F2} (target >= 0.50)");

            // Sustained load for longer than the failure detector's pause, then a settle period, so a
            // starved heartbeat would have time to show as UNREACHABLE.
            var soakBytes = 0L;
            var soakWatch = Stopwatch.StartNew();
            while (soakWatch.Elapsed.TotalSeconds < options.SoakSeconds)
            {
                soakBytes += (await BatchAsync(source, TransferPath.SideChannel, payloads, options.Window, TimeSpan.FromMinutes(5))).Bytes;
            }

            Console.WriteLine($"soak: {soakBytes / MiB:F0} MiB over the side channel in {soakWatch.Elapsed.TotalSeconds:F1} s "
                + $"({soakBytes / MiB / soakWatch.Elapsed.TotalSeconds:F0} MiB/s); settling {SettleTime.TotalSeconds:F0} s");
            await Task.Delay(SettleTime);
            var sideUnreachable = health.Unreachable + childHealth.Unreachable - u0;
            var sideQuarantined = health.Quarantined + childHealth.Quarantined - q0;
            Console.WriteLine($"unreachable events during side-channel load: {sideUnreachable} (must be 0); quarantines: {sideQuarantined}");

            if (options.NaiveMiB > 0)
            {
                var naivePayloads = Payloads([options.SizesMiB.Min()], options.NaiveMiB);
                var (u1, q1) = (health.Unreachable + childHealth.Unreachable, health.Quarantined + childHealth.Quarantined);
                var naive = await Record.ExceptionOrResult(() =>
                    BatchAsync(source, TransferPath.NaiveAkka, naivePayloads, 2, TimeSpan.FromMinutes(3)));
                if (naive.Result is { } n)
                {
                    Report($"naive Akka messages ({options.SizesMiB.Min()} MiB byte[], window 2)", n.Bytes, n.Elapsed, n.LatencyMicros);
                }
                else
                {
                    Console.WriteLine($"naive Akka messages: failed ({naive.Error?.GetType().Name}: {naive.Error?.Message})");
                }

                await Task.Delay(SettleTime);
                Console.WriteLine($"unreachable events during naive load: {health.Unreachable + childHealth.Unreachable - u1}; "
                    + $"quarantines: {health.Quarantined + childHealth.Quarantined - q1}");
            }

            var stats = BulkTransport.Get(system).Stats;
            Console.WriteLine($"side channel counters (sender): sent {stats.TransfersSent}, failures {stats.SendFailures}");
            var ok = ratio >= 0.5 && sideUnreachable == 0;
            Console.WriteLine(ok ? "PASS" : "FAIL");
            return ok ? 0 : 1;
        }
        finally
        {
            await StopChildAsync(child);
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    /// <summary>The receiving node: a sink actor, a raw TCP sink, and reachability reports on stdout.</summary>
    public static async Task<int> RunNodeAsync(string[] args)
    {
        var seed = Arg(args, "--seed") ?? throw new ArgumentException("--seed host:port required");
        var naive = double.Parse(Arg(args, "--naive-mb") ?? "0", CultureInfo.InvariantCulture) > 0;
        var config = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"],
            Seeds = [seed],
            Environment = new Dictionary<string, string?>(),
            Overrides = CommonOverrides(new Options(0, [4], 1, naive ? 1 : 0, 0, 0, Sets(args))),
        });
        using var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        var health = new HealthCounters();
        system.ActorOf(Props.Create(() => new HealthWatcher(health, line => Console.WriteLine(line))), "health");
        system.ActorOf(Props.Create(() => new SinkActor()), "sink");

        using var raw = new Socket(SocketType.Stream, ProtocolType.Tcp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        raw.Listen(4);
        _ = Task.Run(() => RawSinkAsync(raw));

        Console.WriteLine($"READY {((IPEndPoint)raw.LocalEndPoint!).Port} {Cluster.Get(system).SelfAddress}");
        while (await Console.In.ReadLineAsync() is { } line && line != "quit")
        {
        }

        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
        return 0;
    }

    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(5);

    private static string[] CommonOverrides(Options options)
    {
        var list = new List<string>
        {
            "akka.loglevel=WARNING",
            // Strict: Akka's default pause (the shipped config allows 6 s), so starvation would show.
            "akka.cluster.failure-detector.acceptable-heartbeat-pause=3s",
            "akka.cluster.failure-detector.threshold=8.0",
        };
        if (options.NaiveMiB > 0)
        {
            // Only so the naive contrast can send multi-MB messages at all; the side channel never needs it.
            list.Add("akka.remote.dot-netty.tcp.maximum-frame-size=40000000b");
            list.Add("akka.remote.dot-netty.tcp.send-buffer-size=40000000b");
            list.Add("akka.remote.dot-netty.tcp.receive-buffer-size=40000000b");
        }

        list.AddRange(options.Sets);
        return [.. list];
    }

    private static List<byte[]> Payloads(int[] sizesMiB, double totalMiB)
    {
        // Two distinct arrays per size, reused: the sender holds ~2 x sum(sizes), not the whole pass.
        var random = new Random(4);
        var distinct = sizesMiB.ToDictionary(s => s, s => Enumerable.Range(0, 2).Select(_ =>
        {
            var bytes = GC.AllocateUninitializedArray<byte>(s << 20);
            random.NextBytes(bytes);
            return bytes;
        }).ToArray());
        var list = new List<byte[]>();
        long total = 0;
        for (var i = 0; total < totalMiB * MiB; i++)
        {
            var size = sizesMiB[i % sizesMiB.Length];
            var payload = distinct[size][i / sizesMiB.Length % 2];
            list.Add(payload);
            total += payload.Length;
        }

        return list;
    }

    private static async Task<BatchResult> BatchAsync(IActorRef source, TransferPath path, List<byte[]> payloads, int window, TimeSpan timeout)
    {
        var done = new TaskCompletionSource<BatchResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        source.Tell(new RunBatch(path, payloads, window, done));
        return await done.Task.WaitAsync(timeout);
    }

    /// <summary>
    /// Baseline: the same bytes over plain loopback connections (as many as the side channel's window,
    /// payloads dealt round-robin), length-prefixed, one acknowledgement per connection at the end.
    /// </summary>
    private static async Task<TimeSpan> RawAsync(int port, List<byte[]> payloads, int connections)
    {
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < connections; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                sockets.Add(socket);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            }

            var watch = Stopwatch.StartNew();
            var received = await Task.WhenAll(sockets.Select((socket, i) =>
                RawStreamAsync(socket, payloads.Where((_, j) => j % connections == i).ToList())));
            var elapsed = watch.Elapsed;
            var expected = payloads.Sum(p => (long)p.Length);
            return received.Sum() == expected ? elapsed : throw new InvalidOperationException($"raw sink got {received.Sum()} B, sent {expected} B");
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private static async Task<long> RawStreamAsync(Socket socket, List<byte[]> payloads)
    {
        var prefix = new byte[8];
        foreach (var payload in payloads)
        {
            BinaryPrimitives.WriteInt64LittleEndian(prefix, payload.Length);
            await socket.SendAsync(prefix);
            await socket.SendAsync(payload);
        }

        BinaryPrimitives.WriteInt64LittleEndian(prefix, -1);
        await socket.SendAsync(prefix);
        return await ReadExactlyAsync(socket, prefix)
            ? BinaryPrimitives.ReadInt64LittleEndian(prefix)
            : throw new EndOfStreamException("raw sink closed");
    }

    private static async Task RawSinkAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using var socket = client;
                var buffer = new byte[4 << 20];
                var prefix = new byte[8];
                long total = 0;
                try
                {
                    while (true)
                    {
                        if (!await ReadExactlyAsync(socket, prefix))
                        {
                            return;
                        }

                        var length = BinaryPrimitives.ReadInt64LittleEndian(prefix);
                        if (length < 0)
                        {
                            BinaryPrimitives.WriteInt64LittleEndian(prefix, total);
                            await socket.SendAsync(prefix);
                            return;
                        }

                        for (var left = length; left > 0;)
                        {
                            var n = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)));
                            if (n == 0)
                            {
                                return;
                            }

                            left -= n;
                            total += n;
                        }
                    }
                }
                catch (SocketException)
                {
                }
            });
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var n = await socket.ReceiveAsync(buffer);
            if (n == 0)
            {
                return false;
            }

            buffer = buffer[n..];
        }

        return true;
    }

    private static void Report(string what, long bytes, TimeSpan elapsed, LongHistogram? latency)
    {
        var line = $"{what,-48}: {bytes / MiB,7:F0} MiB in {elapsed.TotalSeconds,6:F2} s = {bytes / MiB / elapsed.TotalSeconds,7:F0} MiB/s";
        if (latency is not null)
        {
            line += $"   per transfer p50 {latency.GetValueAtPercentile(50) / 1000.0:F1} ms, p99 {latency.GetValueAtPercentile(99) / 1000.0:F1} ms, "
                + $"max {latency.GetMaxValue() / 1000.0:F1} ms";
        }

        Console.WriteLine(line);
    }

    private static Process StartChild(Address seed, string[] sets, out TaskCompletionSource<(int RawPort, Address Address)> ready, HealthCounters childHealth)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this executable");
        var info = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(TransportLoadTest).Assembly.Location);
        }

        info.ArgumentList.Add(NodeVerb);
        info.ArgumentList.Add("--seed");
        info.ArgumentList.Add($"{seed.Host}:{seed.Port}");
        info.ArgumentList.Add("--naive-mb");
        info.ArgumentList.Add("1");
        foreach (var set in sets)
        {
            info.ArgumentList.Add("--set");
            info.ArgumentList.Add(set);
        }
        var child = Process.Start(info) ?? throw new InvalidOperationException("could not start the receiver node");
        var readySource = new TaskCompletionSource<(int, Address)>(TaskCreationOptions.RunContinuationsAsynchronously);
        ready = readySource;
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                readySource.TrySetException(new InvalidOperationException("receiver node exited"));
                return;
            }

            if (line.StartsWith("READY ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                readySource.TrySetResult((int.Parse(parts[1], CultureInfo.InvariantCulture), Address.Parse(parts[2])));
            }
            else if (line.StartsWith("UNREACHABLE", StringComparison.Ordinal))
            {
                childHealth.OnUnreachable();
                Console.WriteLine($"  [receiver node] {line}");
            }
            else if (line.StartsWith("QUARANTINED", StringComparison.Ordinal))
            {
                childHealth.OnQuarantined();
                Console.WriteLine($"  [receiver node] {line}");
            }
        };
        child.BeginOutputReadLine();
        return child;
    }

    private static async Task StopChildAsync(Process child)
    {
        try
        {
            if (!child.HasExited)
            {
                await child.StandardInput.WriteLineAsync("quit");
                child.StandardInput.Close();
                await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
        {
            child.Kill(entireProcessTree: true);
        }
    }

    private static async Task WaitUntilUpAsync(Cluster cluster, int members, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (cluster.State.Members.Count(m => m.Status == MemberStatus.Up) < members)
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"the cluster did not reach {members} Up members in {timeout}");
            }

            await Task.Delay(100);
        }
    }

    private static Options Parse(string[] args) => new(
        TotalMiB: double.Parse(Arg(args, "--total-mb") ?? "400", CultureInfo.InvariantCulture),
        SizesMiB: (Arg(args, "--sizes") ?? "4,25").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
        Window: int.Parse(Arg(args, "--window") ?? "4", CultureInfo.InvariantCulture),
        NaiveMiB: double.Parse(Arg(args, "--naive-mb") ?? "100", CultureInfo.InvariantCulture),
        SoakSeconds: double.Parse(Arg(args, "--soak-s") ?? "10", CultureInfo.InvariantCulture),
        Rounds: int.Parse(Arg(args, "--rounds") ?? "3", CultureInfo.InvariantCulture),
        Sets: Sets(args));

    private static string[] Sets(string[] args) =>
        [.. args.Select((a, i) => (a, i)).Where(p => p.a == "--set" && p.i + 1 < args.Length).Select(p => args[p.i + 1])];

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>A task's result or its exception, for a phase allowed to fail (the naive contrast).</summary>
internal sealed record Record<T>(T? Result, Exception? Error);

internal static class Record
{
    public static async Task<Record<T>> ExceptionOrResult<T>(Func<Task<T>> run)
        where T : class
    {
        try
        {
            return new Record<T>(await run(), null);
        }
        catch (Exception e) when (e is TimeoutException or BulkTransferException or InvalidOperationException)
        {
            return new Record<T>(null, e);
        }
    }
}

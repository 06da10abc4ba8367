using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Actors.LoadTests.Chaos;

namespace Actors.Cli.Tests.Chaos;

/// <summary>
/// The fault proxy on real loopback sockets: frames pass whole and in order; a partition holds them until it heals; a
/// delay adds its time; a drop loses about its fraction of whole frames (seeded); the proxy names the process that opened
/// a connection from /proc. Plus the accounting and fault figures computed from hand-made inputs.
/// </summary>
public sealed class FaultProxySpec
{
    /// <summary>An echo server speaking Akka's framing (4-byte little-endian length + body): every frame comes back as it was.</summary>
    private static (TcpListener Listener, Task Serving) Echo()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = Task.Run(async () =>
        {
            while (true)
            {
                Socket s;
                try
                {
                    s = await listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    using var socket = s;
                    var buffer = new byte[1 << 16];
                    try
                    {
                        while (true)
                        {
                            int n = await socket.ReceiveAsync(buffer);
                            if (n == 0) return;
                            await socket.SendAsync(buffer.AsMemory(0, n));
                        }
                    }
                    catch (SocketException)
                    {
                    }
                });
            }
        });
        return (listener, serving);
    }

    private static byte[] Frame(int i, int size = 100)
    {
        var f = new byte[4 + size];
        BinaryPrimitives.WriteInt32LittleEndian(f, size);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(4), i);
        return f;
    }

    private static async Task<int?> ReadFrame(Socket s, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var header = new byte[4];
        try
        {
            for (int got = 0; got < 4;) got += await s.ReceiveAsync(header.AsMemory(got), cts.Token);
            var body = new byte[BinaryPrimitives.ReadInt32LittleEndian(header)];
            for (int got = 0; got < body.Length;) got += await s.ReceiveAsync(body.AsMemory(got), cts.Token);
            return BinaryPrimitives.ReadInt32LittleEndian(body);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Frames_pass_in_order_a_partition_holds_them_until_healed_and_a_delay_adds_its_time()
    {
        var (listener, _) = Echo();
        var faults = new LinkFaults(1);
        var seen = new List<string>();
        using var proxy = new FaultProxy("target", ((IPEndPoint)listener.LocalEndpoint).Port, Framing.Akka, faults, (client, port) =>
        {
            var who = SocketOwners.Find(client, port, new Dictionary<int, string> { [Environment.ProcessId] = "this-test" });
            lock (seen) seen.Add(who);
            return who;
        });
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        for (int i = 0; i < 20; i++) await client.SendAsync(Frame(i));
        for (int i = 0; i < 20; i++) Assert.Equal(i, await ReadFrame(client, TimeSpan.FromSeconds(5)));
        lock (seen) Assert.Equal(["this-test"], seen); // the proxy found this process as the one that opened the connection

        faults.Partition(["this-test"], ["target"]);
        await client.SendAsync(Frame(100));
        Assert.Null(await ReadFrame(client, TimeSpan.FromMilliseconds(400))); // held
        faults.Heal();
        Assert.Equal(100, await ReadFrame(client, TimeSpan.FromSeconds(5)));
        Assert.True(faults.HeldFrames >= 1);

        faults.SetDelay(["target"], TimeSpan.FromMilliseconds(150), TimeSpan.Zero);
        var watch = Stopwatch.StartNew();
        await client.SendAsync(Frame(7));
        Assert.Equal(7, await ReadFrame(client, TimeSpan.FromSeconds(5)));
        Assert.True(watch.ElapsedMilliseconds >= 280, $"{watch.ElapsedMilliseconds} ms"); // 150 ms each way
        faults.ClearDelay();
        listener.Stop();
    }

    [Fact]
    public async Task A_drop_loses_about_its_fraction_of_whole_frames_and_the_rest_stay_intact()
    {
        var (listener, _) = Echo();
        var faults = new LinkFaults(3);
        using var proxy = new FaultProxy("target", ((IPEndPoint)listener.LocalEndpoint).Port, Framing.Akka, faults, (_, _) => "source");
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        faults.SetDrop(["source"], 0.3);
        for (int i = 0; i < 200; i++) await client.SendAsync(Frame(i, 1000));
        var got = new List<int>();
        while (await ReadFrame(client, TimeSpan.FromMilliseconds(500)) is { } f) got.Add(f);
        // each frame crosses twice (there and back): ~0.7^2 = 49% survive; every survivor whole and in order
        Assert.InRange(got.Count, 70, 130);
        Assert.Equal(got.Order(), got);
        Assert.Equal(200 - got.Count, faults.DroppedFrames); // a frame is lost on the way there or on the way back, counted once
        listener.Stop();
    }

    [Fact]
    public async Task Side_channel_transfers_pass_whole_are_held_by_a_partition_and_a_dropped_one_resets_its_connection()
    {
        // A listener speaking the side channel's framing: a 32-byte header with the length, the bytes, one status byte back.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var received = new List<long>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Socket s;
                try
                {
                    s = await listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    using var socket = s;
                    var header = new byte[Actors.Runtime.Transport.BulkFrameHeader.Size];
                    try
                    {
                        while (true)
                        {
                            for (int got = 0; got < header.Length;) { int n = await socket.ReceiveAsync(header.AsMemory(got)); if (n == 0) return; got += n; }
                            Assert.True(Actors.Runtime.Transport.BulkFrameHeader.TryRead(header, out var h));
                            var body = new byte[h.Length];
                            for (int got = 0; got < body.Length;) { int n = await socket.ReceiveAsync(body.AsMemory(got)); if (n == 0) return; got += n; }
                            lock (received) received.Add(h.Length);
                            await socket.SendAsync(new byte[] { 0 });
                        }
                    }
                    catch (SocketException)
                    {
                    }
                });
            }
        });
        var faults = new LinkFaults(5);
        using var proxy = new FaultProxy("target", ((IPEndPoint)listener.LocalEndpoint).Port, Framing.Bulk, faults, (_, _) => "source");
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        async Task<bool> Transfer(int length, TimeSpan wait)
        {
            var frame = new byte[Actors.Runtime.Transport.BulkFrameHeader.Size + length];
            new Actors.Runtime.Transport.BulkFrameHeader(Guid.NewGuid(), length, 102).Write(frame);
            await client.SendAsync(frame);
            using var cts = new CancellationTokenSource(wait);
            try
            {
                return await client.ReceiveAsync(new byte[1], cts.Token) == 1;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        Assert.True(await Transfer(300_000, TimeSpan.FromSeconds(5)));
        Assert.True(await Transfer(17, TimeSpan.FromSeconds(5)));
        lock (received) Assert.Equal([300_000L, 17L], received);

        faults.Partition(["source"], ["target"]);
        var held = Transfer(1_000, TimeSpan.FromSeconds(5));
        await Task.Delay(400);
        Assert.False(held.IsCompleted);
        faults.Heal();
        Assert.True(await held);

        faults.SetDrop(["target"], 0.999);
        Assert.False(await Transfer(1_000, TimeSpan.FromSeconds(2))); // the transfer is lost and its connection reset
        try
        {
            Assert.Equal(0, await client.ReceiveAsync(new byte[1])); // closed
        }
        catch (SocketException)
        {
            // or reset: closed either way
        }
        lock (received) Assert.Equal(3, received.Count);
        listener.Stop();
    }

    [Fact]
    public void The_accounting_holds_only_when_every_update_is_sent_by_some_worker()
    {
        static JsonObject Summary(long applied, params (long Accepted, long Dropped, long Sent)[] workers)
        {
            var a = new JsonArray();
            int i = 0;
            foreach (var (acc, dr, sent) in workers) a.Add(new JsonObject { ["worker"] = i++, ["accepted"] = acc, ["dropped"] = dr, ["sent"] = sent });
            return new JsonObject { ["updates_applied"] = applied, ["per_worker"] = a, ["updates_dropped"] = new JsonObject { ["duplicate"] = 3 } };
        }
        var ok = ChaosRunner.Accounting(Summary(15, (10, 1, 12), (5, 2, 7)));
        Assert.Equal(19L, ok["sent"]!.GetValue<long>());
        Assert.Equal(1L, ok["in_flight"]!.GetValue<long>()); // worker 0: 12 sent, 11 seen
        Assert.Equal(0L, ok["unexplained"]!.GetValue<long>());
        Assert.True(ok["holds"]!.GetValue<bool>());

        var credited = ChaosRunner.Accounting(Summary(15, (10, 3, 12), (5, 2, 7))); // worker 0 credited with 13, sent 12
        Assert.Equal(1L, credited["unexplained"]!.GetValue<long>());
        Assert.False(credited["holds"]!.GetValue<bool>());
        var orphan = ChaosRunner.Accounting(Summary(16, (10, 1, 12), (5, 2, 7))); // an applied update no worker is credited with
        Assert.False(orphan["holds"]!.GetValue<bool>());
        // worker 1 crashed: its node last reported 5 sent, the aggregator saw 7 from it (sent in its last second)
        var crash = Summary(15, (10, 1, 12), (5, 2, 5));
        crash["workers_crashed_events"] = new JsonArray(new JsonObject { ["workers"] = new JsonArray(1) });
        var lost = ChaosRunner.Accounting(crash);
        Assert.True(lost["holds"]!.GetValue<bool>());
        Assert.Equal(2L, lost["sent_after_last_report"]!.GetValue<long>());
        Assert.False(ChaosRunner.Accounting(Summary(15, (10, 1, 12), (5, 2, 5)))["holds"]!.GetValue<bool>()); // alive: that would be unexplained
        var uncounted = ChaosRunner.Accounting(new JsonObject { ["updates_applied"] = 1, ["per_worker"] = new JsonArray(new JsonObject { ["accepted"] = 1, ["dropped"] = 0 }) });
        Assert.Null(uncounted["sent"]);
        Assert.False(uncounted["holds"]!.GetValue<bool>()); // without the workers' counts nothing is proven
    }

    [Fact]
    public void Detection_stall_and_recovery_come_from_the_progress_and_the_logs()
    {
        var fault = new Fault(FaultAction.Partition, "node-1", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10)) { Nodes = ["node-1"] };
        var record = new ChaosRunner.FaultRecord(fault, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        // a row every second before the fault, none from 10 s to 18.5 s, then every second again
        var samples = new List<(double, long)>();
        long step = 0;
        for (double t = 0; t < 30; t += 0.5)
        {
            bool advance = t % 1 == 0 && (t < 10 || t >= 18.5);
            if (advance) step += 100;
            samples.Add((t, step));
        }
        var lines = new[] { (12.0, "seed", "Marking node(s) as UNREACHABLE [node-1]"), (9.0, "seed", "Marking node(s) as UNREACHABLE earlier"), (11.0, "seed", "associate with unreachable remote address") };
        var f = ChaosRunner.Measure(record, samples, lines);
        Assert.Equal(2.0, f.DetectedAfter);
        Assert.Equal(9.0 - 1.0, f.Stall, 3); // no row from the fault (10 s) to 19 s, less the usual 1 s between rows
        Assert.Equal(10.0, f.RecoveredAfter); // the first row at or after the fault's end (20 s)
        var quiet = ChaosRunner.Measure(record, samples, []);
        Assert.Null(quiet.DetectedAfter);
        Assert.Null(ChaosRunner.Measure(record, samples, lines, next: 11.5).DetectedAfter); // after the next fault began: not this one's
    }

    [Fact]
    public void Link_faults_parse_with_their_amounts_and_bad_ones_say_what_is_wrong()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-chaos-parse", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var f = Path.Combine(dir, "x.hocon");
            File.WriteAllText(f, """
                chaos { worker-nodes = 2, nodes.set = ["actors.cluster.resend-after=2s"], faults = [
                  { action = partition, nodes = [node-1], after = 1s, for = 10s }
                  { action = delay, nodes = ["*"], delay = 50ms, jitter = 20ms, after = 2s, for = 5s }
                  { action = drop, node = node-2, fraction = 0.02, after = 3s } ] }
                """);
            var s = ChaosScenario.Load(f);
            Assert.True(s.ProxiesLinks);
            Assert.Equal(["actors.cluster.resend-after=2s"], s.NodeSettings);
            Assert.Equal(["node-1"], s.Faults[0].Nodes);
            Assert.Equal(TimeSpan.FromMilliseconds(50), s.Faults[1].Delay);
            Assert.Equal(TimeSpan.FromMilliseconds(20), s.Faults[1].Jitter);
            Assert.Equal(0.02, s.Faults[2].Fraction);
            Assert.Equal(TimeSpan.Zero, s.Faults[2].For); // until the end

            foreach (var (bad, says) in new[]
            {
                ("{ action = partition, nodes = [\"*\"], after = 1s, for = 1s }", "partition node"),
                ("{ action = partition, nodes = [seed, node-1, node-2], after = 1s, for = 1s }", "proper subset"),
                ("{ action = partition, nodes = [node-1], after = 1s }", "needs 'for'"),
                ("{ action = delay, delay = 10ms, jitter = 20ms, after = 1s }", "jitter <= delay"),
                ("{ action = drop, fraction = 1.5, after = 1s }", "0 < fraction < 1"),
                ("{ action = drop, node = node-9, fraction = 0.1, after = 1s }", "node-9"),
            })
            {
                File.WriteAllText(f, $"chaos {{ worker-nodes = 2, faults = [ {bad} ] }}");
                Assert.Contains(says, Assert.Throws<ArgumentException>(() => ChaosScenario.Load(f)).Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

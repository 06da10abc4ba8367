using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.LoadTests.Transport;
using Actors.Runtime.Cluster;
using Akka.Actor;
using Akka.Cluster;

namespace Actors.LoadTests.Load;

/// <summary>
/// The driver's side of a load test's cluster: this process is the seed (a real Akka.Cluster node with the bulk side
/// channel), and each <see cref="NodeVerb"/> child is another node on loopback hosting the scenario's actors
/// (<c>aggregator</c>, <c>sink</c>, <c>gossip-K</c>) and a raw TCP echo sink. Children stop with the driver
/// (<see cref="ParentWatch"/>); every wait is bounded.
/// </summary>
public sealed class LoadCluster : IAsyncDisposable
{
    public const string NodeVerb = "load-node";
    private readonly List<(Process Process, int RawPort, Address Address)> _nodes = [];

    private LoadCluster(ActorSystem system) => System = system;

    public ActorSystem System { get; }

    public IReadOnlyList<(Process Process, int RawPort, Address Address)> Nodes => _nodes;

    /// <summary>Starts the seed here and <paramref name="children"/> child nodes, each with <paramref name="gossipPeers"/> gossip peers of <paramref name="dimension"/> values.</summary>
    public static async Task<LoadCluster> StartAsync(int children, int dimension, int gossipPeers, int gossipFirstId = 0)
    {
        var config = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["seed"],
            Port = 0,
            Environment = new Dictionary<string, string?>(),
            Overrides = [.. Overrides],
        });
        var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        var cluster = Cluster.Get(system);
        await cluster.JoinAsync(cluster.SelfAddress).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var lc = new LoadCluster(system);
        var seed = cluster.SelfAddress;
        for (int i = 0; i < children; i++)
        {
            var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(LoadCluster).Assembly.Location);
            foreach (var a in new[] { NodeVerb, "--seed", $"{seed.Host}:{seed.Port}", "--dim", $"{dimension}", "--gossip", $"{gossipPeers}", "--first-id", $"{gossipFirstId + (i + 1) * gossipPeers}" })
                info.ArgumentList.Add(a);
            info.Environment[ParentWatch.Variable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            var p = Process.Start(info) ?? throw new InvalidOperationException("could not start a load node");
            var ready = new TaskCompletionSource<(int, Address)>(TaskCreationOptions.RunContinuationsAsynchronously);
            p.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    ready.TrySetException(new InvalidOperationException("a load node exited before it was ready"));
                    return;
                }
                if (!e.Data.StartsWith("READY ", StringComparison.Ordinal)) return;
                var parts = e.Data.Split(' ');
                ready.TrySetResult((int.Parse(parts[1], CultureInfo.InvariantCulture), Address.Parse(parts[2])));
            };
            p.BeginOutputReadLine();
            var (raw, address) = await ready.Task.WaitAsync(TimeSpan.FromSeconds(90)).ConfigureAwait(false);
            lc._nodes.Add((p, raw, address));
        }
        var watch = Stopwatch.StartNew();
        while (cluster.State.Members.Count(m => m.Status == MemberStatus.Up) < children + 1)
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"the load cluster did not reach {children + 1} members");
            await Task.Delay(100).ConfigureAwait(false);
        }
        return lc;
    }

    // The driver's requests and acknowledgements are plain arrays (on Hyperion's allow list already): bind them for the load test only.
    private static readonly string[] Overrides = ["akka.loglevel=WARNING", "actors.transport.max-buffered-bytes=4GiB", "actors.transport.max-connections=4096",
        "akka.actor.serialization-bindings={ \"System.String[], System.Private.CoreLib\" = hyperion, \"System.Int64[], System.Private.CoreLib\" = hyperion }"];

    /// <summary>A child's actor by name, resolved (bounded).</summary>
    public Task<IActorRef> Resolve(int node, string name) =>
        System.ActorSelection(new RootActorPath(_nodes[node].Address) / "user" / name).ResolveOne(TimeSpan.FromSeconds(10));

    /// <summary>Peak and current resident memory of a child node (VmHWM / VmRSS, MB), from /proc.</summary>
    public (double PeakMb, double CurrentMb) Memory(int node)
    {
        double peak = double.NaN, now = double.NaN;
        var status = $"/proc/{_nodes[node].Process.Id}/status";
        if (!File.Exists(status)) return (peak, now);
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line) / 1024.0;
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) now = Kb(line) / 1024.0;
        }
        return (peak, now);

        static double Kb(string line) => double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (p, _, _) in _nodes)
        {
            try
            {
                if (!p.HasExited)
                {
                    await p.StandardInput.WriteLineAsync("quit").ConfigureAwait(false);
                    p.StandardInput.Close();
                    await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
            {
                p.Kill(entireProcessTree: true);
            }
            p.Dispose();
        }
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        System.Dispose();
    }

    /// <summary>The child node: joins the seed, hosts the actors and the raw echo sink, prints READY, stops on "quit" or end of input.</summary>
    public static async Task<int> RunNodeAsync(string[] args)
    {
        string Arg(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        using var orphaned = ParentWatch.Start(Environment.GetEnvironmentVariable(ParentWatch.Variable), Console.WriteLine);
        var config = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"],
            Seeds = [Arg("--seed", "")],
            Environment = new Dictionary<string, string?>(),
            Overrides = [.. Overrides],
        });
        using var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        int dimension = int.Parse(Arg("--dim", "203530"), CultureInfo.InvariantCulture);
        int gossip = int.Parse(Arg("--gossip", "0"), CultureInfo.InvariantCulture);
        int firstId = int.Parse(Arg("--first-id", "0"), CultureInfo.InvariantCulture);
        system.ActorOf(Props.Create(() => new SaturationAggregator(dimension)), "aggregator");
        system.ActorOf(Props.Create(() => new SinkActor()), "sink");
        for (int k = 0; k < gossip; k++)
        {
            int id = firstId + k;
            system.ActorOf(Props.Create(() => new GossipLoadPeer(id, dimension)), $"gossip-{id}");
        }
        using var raw = new Socket(SocketType.Stream, ProtocolType.Tcp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        raw.Listen(64);
        _ = Task.Run(() => RawEcho.ServeAsync(raw));
        Console.WriteLine($"READY {((IPEndPoint)raw.LocalEndPoint!).Port} {Cluster.Get(system).SelfAddress}");
        var input = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line && line != "quit")
            {
            }
        });
        await Task.WhenAny(input, Task.Delay(Timeout.Infinite, orphaned.Token)).ConfigureAwait(false);
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        return 0;
    }
}

/// <summary>The raw TCP baseline: length-prefixed frames, each acknowledged with 8 bytes once fully read (the same round trip the actors path makes).</summary>
public static class RawEcho
{
    public static async Task ServeAsync(Socket listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using var socket = client;
                var buffer = new byte[1 << 20];
                var prefix = new byte[8];
                try
                {
                    while (await ReadExactlyAsync(socket, prefix).ConfigureAwait(false))
                    {
                        long length = BinaryPrimitives.ReadInt64LittleEndian(prefix);
                        for (long left = length; left > 0;)
                        {
                            int n = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left))).ConfigureAwait(false);
                            if (n == 0) return;
                            left -= n;
                        }
                        await socket.SendAsync(prefix).ConfigureAwait(false);
                    }
                }
                catch (SocketException)
                {
                    // the driver closed the connection
                }
            });
        }
    }

    /// <summary>Sends one frame and waits for its acknowledgement.</summary>
    public static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var prefix = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(prefix, payload.Length);
        await socket.SendAsync(prefix, cancellation).ConfigureAwait(false);
        await socket.SendAsync(payload, cancellation).ConfigureAwait(false);
        if (!await ReadExactlyAsync(socket, prefix, cancellation).ConfigureAwait(false)) throw new EndOfStreamException("the raw sink closed");
    }

    /// <summary>Fills <paramref name="buffer"/> from the socket; false when the peer closed first.</summary>
    public static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellation = default)
    {
        while (buffer.Length > 0)
        {
            int n = await socket.ReceiveAsync(buffer, cancellation).ConfigureAwait(false);
            if (n == 0) return false;
            buffer = buffer[n..];
        }
        return true;
    }
}

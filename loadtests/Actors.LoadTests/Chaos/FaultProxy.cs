using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Actors.LoadTests.Chaos;

/// <summary>
/// The link faults in force, shared by every proxy of a chaos run: partitions (pairs of nodes whose traffic is held, as a
/// network that loses every packet holds a TCP stream until it heals), delay (each frame leaves D +- jitter later, order
/// kept) and drop (a fraction of frames discarded). Faults name nodes; "*" in a delay or drop set means every node.
/// Thread-safe; the random draws come from the scenario's seed.
/// </summary>
public sealed class LinkFaults
{
    private readonly object _gate = new();
    private readonly Random _random;
    private readonly HashSet<(string, string)> _partitioned = [];
    private (HashSet<string> Nodes, TimeSpan Delay, TimeSpan Jitter)? _delay;
    private (HashSet<string> Nodes, double Fraction)? _drop;
    private long _dropped, _delayedFrames, _heldFrames;

    public LinkFaults(int seed) => _random = new Random(seed);

    public long DroppedFrames => Interlocked.Read(ref _dropped);

    public long DelayedFrames => Interlocked.Read(ref _delayedFrames);

    public long HeldFrames => Interlocked.Read(ref _heldFrames);

    /// <summary>Cuts every link between a node of <paramref name="side"/> and a node of <paramref name="rest"/>.</summary>
    public void Partition(IEnumerable<string> side, IEnumerable<string> rest)
    {
        lock (_gate)
            foreach (var a in side)
                foreach (var b in rest)
                    if (a != b) _partitioned.Add(Key(a, b));
    }

    public void Heal()
    {
        lock (_gate) _partitioned.Clear();
    }

    public void SetDelay(IEnumerable<string> nodes, TimeSpan delay, TimeSpan jitter)
    {
        lock (_gate) _delay = (nodes.ToHashSet(StringComparer.Ordinal), delay, jitter);
    }

    public void SetDrop(IEnumerable<string> nodes, double fraction)
    {
        lock (_gate) _drop = (nodes.ToHashSet(StringComparer.Ordinal), fraction);
    }

    public void ClearDelay()
    {
        lock (_gate) _delay = null;
    }

    public void ClearDrop()
    {
        lock (_gate) _drop = null;
    }

    public bool IsPartitioned(string a, string b)
    {
        lock (_gate) return _partitioned.Contains(Key(a, b));
    }

    /// <summary>What happens to one frame on the link a-b: dropped, or delivered after a delay (zero when no delay is set).</summary>
    public (bool Drop, TimeSpan Delay) Decide(string a, string b)
    {
        lock (_gate)
        {
            if (_drop is { } d && Involves(d.Nodes, a, b) && _random.NextDouble() < d.Fraction)
            {
                _dropped++;
                return (true, TimeSpan.Zero);
            }
            if (_delay is { } delay && Involves(delay.Nodes, a, b))
            {
                _delayedFrames++;
                double jitter = (2 * _random.NextDouble() - 1) * delay.Jitter.TotalMilliseconds;
                return (false, TimeSpan.FromMilliseconds(Math.Max(0, delay.Delay.TotalMilliseconds + jitter)));
            }
            return (false, TimeSpan.Zero);
        }
    }

    internal void CountHeld() => Interlocked.Increment(ref _heldFrames);

    private static bool Involves(HashSet<string> nodes, string a, string b) => nodes.Contains("*") || nodes.Contains(a) || nodes.Contains(b);

    private static (string, string) Key(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
}

/// <summary>How a byte stream splits into messages, so a fault drops or delays whole messages, never half of one.</summary>
public enum Framing
{
    /// <summary>Akka.Remote over DotNetty: a 4-byte little-endian length, then the frame.</summary>
    Akka,

    /// <summary>The bulk side channel: requests are a 32-byte header (its length at offset 24, little-endian) then the bytes; answers are status bytes.</summary>
    Bulk,
}

/// <summary>
/// A TCP proxy in front of one port of one node (its Akka.Remote port or its side-channel port): the node advertises the
/// proxy's port (ACTORS_PUBLIC_PORT / ACTORS_TRANSPORT_PUBLIC_PORT), so every other node's traffic to it passes here. On
/// each accepted connection the proxy finds which node opened it (the process owning the client socket, from /proc), so
/// a fault on the link between that node and this one applies in both directions. Loopback only, no root.
/// A frame dropped on a side-channel request resets that connection (the transfer fails, as a lost segment that never
/// recovers would): dropping part of a transfer would only desynchronize the stream.
/// </summary>
public sealed class FaultProxy : IDisposable
{
    private const int MaxAkkaFrame = 64 << 20;
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly string _node;
    private readonly Framing _framing;
    private readonly LinkFaults _faults;
    private readonly Func<int, int, string> _whoOpened;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private long _connections;

    /// <param name="whoOpened">The node name of the process that owns a loopback client socket (its port, the proxy's port); "?" when not ours.</param>
    public FaultProxy(string node, int targetPort, Framing framing, LinkFaults faults, Func<int, int, string> whoOpened)
    {
        _node = node;
        _targetPort = targetPort;
        _framing = framing;
        _faults = faults;
        _whoOpened = whoOpened;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(256);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoop);
    }

    /// <summary>The port other nodes dial.</summary>
    public int Port { get; }

    public long Connections => Interlocked.Read(ref _connections);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(Socket client)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        _open[client] = 0;
        _open[server] = 0;
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            var from = _whoOpened(((IPEndPoint)client.RemoteEndPoint!).Port, Port);
            await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _targetPort), connection.Token).ConfigureAwait(false);
            var up = Pump(client, server, from, request: true, connection);
            var down = Pump(server, client, from, request: false, connection);
            await Task.WhenAny(up, down).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // the connection ends
        }
        finally
        {
            await connection.CancelAsync().ConfigureAwait(false);
            foreach (var s in new[] { client, server })
            {
                _open.TryRemove(s, out _);
                try
                {
                    s.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // already closed
                }
                s.Dispose();
            }
        }
    }

    /// <summary>Reads whole frames from <paramref name="source"/> and writes them to <paramref name="sink"/> as the faults allow.</summary>
    private async Task Pump(Socket source, Socket sink, string from, bool request, CancellationTokenSource connection)
    {
        var queue = Channel.CreateBounded<(byte[] Frame, long ReleaseAt)>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var (frame, releaseAt) in queue.Reader.ReadAllAsync(connection.Token).ConfigureAwait(false))
                {
                    bool held = false;
                    while (_faults.IsPartitioned(from, _node))
                    {
                        if (!held) _faults.CountHeld();
                        held = true;
                        await Task.Delay(20, connection.Token).ConfigureAwait(false);
                    }
                    long wait = releaseAt - Environment.TickCount64;
                    if (wait > 0) await Task.Delay((int)wait, connection.Token).ConfigureAwait(false);
                    await sink.SendAsync(frame, connection.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                await connection.CancelAsync().ConfigureAwait(false);
            }
        });
        long lastRelease = 0;
        try
        {
            while (!connection.IsCancellationRequested)
            {
                var frame = await ReadFrame(source, request, connection.Token).ConfigureAwait(false);
                if (frame is null) break;
                var (drop, delay) = _faults.Decide(from, _node);
                if (drop)
                {
                    if (_framing == Framing.Bulk) break; // a lost transfer: the connection resets (see the class remarks)
                    continue;
                }
                long release = Math.Max(lastRelease, Environment.TickCount64 + (long)delay.TotalMilliseconds);
                lastRelease = release;
                await queue.Writer.WriteAsync((frame, release), connection.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // the connection ends (a framing error, a reset, the proxy stopping)
        }
        queue.Writer.TryComplete();
        await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
        await connection.CancelAsync().ConfigureAwait(false);
    }

    private async Task<byte[]?> ReadFrame(Socket source, bool request, CancellationToken cancellation)
    {
        if (_framing == Framing.Bulk && !request)
        {
            var status = new byte[1]; // the listener's answers: one status byte per transfer
            return await Load.RawEcho.ReadExactlyAsync(source, status, cancellation).ConfigureAwait(false) ? status : null;
        }
        int headerSize = _framing == Framing.Akka ? 4 : 32;
        var header = new byte[headerSize];
        if (!await Load.RawEcho.ReadExactlyAsync(source, header, cancellation).ConfigureAwait(false)) return null;
        long body = _framing == Framing.Akka ? BinaryPrimitives.ReadInt32LittleEndian(header) : BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(24));
        if (body < 0 || body > (_framing == Framing.Akka ? MaxAkkaFrame : int.MaxValue - headerSize))
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"proxy for {_node}: frame length {body} is not {_framing} framing"));
        var frame = new byte[headerSize + body];
        header.CopyTo(frame, 0);
        return await Load.RawEcho.ReadExactlyAsync(source, frame.AsMemory(headerSize), cancellation).ConfigureAwait(false) ? frame : null;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var s in _open.Keys) s.Dispose();
        _stop.Dispose();
    }
}

/// <summary>
/// Which of our processes owns a loopback TCP client socket: the socket's inode from /proc/net/tcp{,6} (local port =
/// the client's port, remote port = the proxy's), then the process among <c>pids</c> with that inode among its open
/// files. Linux only; any miss is "?" (an outside process: no link fault applies to it).
/// </summary>
public static class SocketOwners
{
    public static string Find(int clientPort, int proxyPort, IReadOnlyDictionary<int, string> pids)
    {
        ArgumentNullException.ThrowIfNull(pids);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var inode = Inode(clientPort, proxyPort);
            if (inode is not null)
            {
                var link = $"socket:[{inode}]";
                foreach (var (pid, name) in pids)
                {
                    try
                    {
                        foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
                            if (new FileInfo(fd).LinkTarget == link) return name;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // the process is gone
                    }
                }
            }
            Thread.Sleep(5);
        }
        return "?";
    }

    private static string? Inode(int localPort, int remotePort)
    {
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10) continue;
                if (PortOf(f[1]) == localPort && PortOf(f[2]) == remotePort) return f[9];
            }
        }
        return null;

        static int PortOf(string hexAddress) => int.Parse(hexAddress[(hexAddress.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}

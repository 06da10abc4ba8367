using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Actors.Runtime.Transport;

/// <summary>
/// The receiving half of the side channel: accepts connections, reads frames straight into the
/// array the claiming actor will get, and answers a status byte per frame. Whatever a peer sends,
/// a bad frame costs only that frame and its connection: it is counted and the listener keeps serving.
/// </summary>
internal sealed class BulkListener : IDisposable
{
    private readonly BulkTransportSettings _settings;
    private readonly BulkInbox _inbox;
    private readonly BulkBufferPool _buffers;
    private readonly BulkTransportCounters _counters;
    private readonly Action<string, Exception?> _log;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Connection, byte> _connections = new();
    private Task _acceptLoop = Task.CompletedTask;

    public BulkListener(BulkTransportSettings settings, BulkInbox inbox, BulkBufferPool buffers, BulkTransportCounters counters, Action<string, Exception?> log)
    {
        _settings = settings;
        _inbox = inbox;
        _buffers = buffers;
        _counters = counters;
        _log = log;
        var address = ResolveBindAddress(settings.Host);
        _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any))
        {
            _socket.DualMode = true;
        }

        try
        {
            _socket.Bind(new IPEndPoint(address, settings.Port));
            _socket.Listen(512);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public int OpenConnections => _connections.Count;

    public void Start() => _acceptLoop = Task.Run(AcceptLoopAsync);

    /// <summary>Aborts connections whose transfer made no progress for the stall timeout.</summary>
    public void AbortStalled(long nowMs)
    {
        var limit = (long)_settings.StallTimeout.TotalMilliseconds;
        foreach (var connection in _connections.Keys)
        {
            if (connection.Busy && nowMs - Volatile.Read(ref connection.LastProgressMs) > limit)
            {
                connection.Abort();
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }

        _stop.Dispose();
    }

    internal static IPAddress ResolveBindAddress(string host)
    {
        if (string.IsNullOrWhiteSpace(host) || host == "*")
        {
            return IPAddress.Any;
        }

        if (IPAddress.TryParse(host, out var parsed))
        {
            return parsed;
        }

        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new ArgumentException($"actors.transport.host = {host}: does not resolve to an address");
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // E.g. a peer that reset during the handshake, or fd exhaustion: keep accepting.
                _log("bulk listener: accept failed", e);
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (_connections.Count >= _settings.MaxConnections)
            {
                _counters.ConnectionRejected();
                client.Dispose();
                continue;
            }

            var connection = new Connection(client);
            _connections[connection] = 0;
            _ = Task.Run(() => ServeAsync(connection, token), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Connection connection, CancellationToken token)
    {
        var socket = connection.Socket;
        socket.NoDelay = true;
        if (_settings.SocketBufferBytes > 0)
        {
            socket.ReceiveBufferSize = _settings.SocketBufferBytes;
            socket.SendBufferSize = _settings.SocketBufferBytes;
        }

        var header = new byte[BulkFrameHeader.Size];
        var status = new byte[1];
        Guid reservedId = default;
        long reservedLength = -1;
        try
        {
            while (!token.IsCancellationRequested)
            {
                // Idle between frames is fine (pooled connections); once a frame starts, it must progress.
                var got = await socket.ReceiveAsync(header, SocketFlags.None, token).ConfigureAwait(false);
                if (got == 0)
                {
                    return;
                }

                connection.Touch(busy: true);
                if (!await ReadFullyAsync(connection, header.AsMemory(got), token).ConfigureAwait(false))
                {
                    _counters.DroppedTruncated();
                    return;
                }

                var verdict = Judge(header, out var frame);
                if (verdict == BulkStatus.Accepted)
                {
                    verdict = _inbox.TryReserve(frame.TransferId, frame.Length);
                }

                if (verdict is BulkStatus.OverCapacity or BulkStatus.Duplicate)
                {
                    // A well-formed frame we cannot take now: skip its payload (bounded by
                    // max-transfer-bytes), tell the sender why, and keep the connection.
                    _counters.Dropped(verdict);
                    if (!await DiscardAsync(connection, frame.Length, token).ConfigureAwait(false))
                    {
                        return;
                    }

                    connection.Touch(busy: false);
                    status[0] = (byte)verdict;
                    await socket.SendAsync(status, SocketFlags.None, token).ConfigureAwait(false);
                    continue;
                }

                if (verdict != BulkStatus.Accepted)
                {
                    // A header we distrust (garbage, or a length beyond max-transfer-bytes) leaves us
                    // unable to find the next frame: answer and close.
                    _counters.Dropped(verdict);
                    status[0] = (byte)verdict;
                    await TrySendAsync(socket, status).ConfigureAwait(false);
                    return;
                }

                reservedId = frame.TransferId;
                reservedLength = frame.Length;
                var payload = _buffers.Rent((int)frame.Length);
                if (!await ReadFullyAsync(connection, BulkBufferPool.Writable(payload), token).ConfigureAwait(false))
                {
                    payload.Dispose();
                    return; // counted as truncated in finally
                }

                reservedLength = -1;
                _counters.Received(payload.Length);
                _inbox.Complete(frame.TransferId, payload, DateTime.UtcNow);
                connection.Touch(busy: false);
                status[0] = (byte)BulkStatus.Accepted;
                await socket.SendAsync(status, SocketFlags.None, token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // Reset by the peer, aborted as stalled, or shutting down: handled in finally.
        }
        catch (Exception e)
        {
            _log("bulk listener: connection failed", e);
        }
        finally
        {
            if (reservedLength >= 0)
            {
                _inbox.Release(reservedId, reservedLength);
                _counters.DroppedTruncated();
            }

            _connections.TryRemove(connection, out _);
            connection.Abort();
        }
    }

    private BulkStatus Judge(byte[] header, out BulkFrameHeader frame)
    {
        if (!BulkFrameHeader.TryRead(header, out frame))
        {
            return BulkStatus.Malformed;
        }

        return frame.Length > _settings.MaxTransferBytes ? BulkStatus.Oversized : BulkStatus.Accepted;
    }

    private static async ValueTask<bool> ReadFullyAsync(Connection connection, Memory<byte> buffer, CancellationToken token)
    {
        while (buffer.Length > 0)
        {
            var got = await connection.Socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
            if (got == 0)
            {
                return false;
            }

            buffer = buffer[got..];
            connection.Touch(busy: true);
        }

        return true;
    }

    private static async ValueTask<bool> DiscardAsync(Connection connection, long length, CancellationToken token)
    {
        var scratch = new byte[(int)Math.Min(length, 64 * 1024)];
        while (length > 0)
        {
            var got = await connection.Socket.ReceiveAsync(scratch.AsMemory(0, (int)Math.Min(length, scratch.Length)), SocketFlags.None, token).ConfigureAwait(false);
            if (got == 0)
            {
                return false;
            }

            length -= got;
            connection.Touch(busy: true);
        }

        return true;
    }

    private static async Task TrySendAsync(Socket socket, byte[] bytes)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await socket.SendAsync(bytes, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer is gone already; nothing to tell it.
        }
    }

    private sealed class Connection(Socket socket)
    {
        public Socket Socket { get; } = socket;

        public long LastProgressMs = Environment.TickCount64;

        private volatile bool _busy;

        public bool Busy => _busy;

        public void Touch(bool busy)
        {
            Volatile.Write(ref LastProgressMs, Environment.TickCount64);
            _busy = busy;
        }

        public void Abort()
        {
            try
            {
                Socket.Dispose();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}

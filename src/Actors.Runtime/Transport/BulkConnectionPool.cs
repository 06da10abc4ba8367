using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Actors.Runtime.Transport;

/// <summary>
/// The sending half of the side channel: per remote listener, up to
/// <c>connections-per-endpoint</c> persistent connections, each carrying one transfer at a time
/// (header, payload, then the listener's status byte).
/// </summary>
internal sealed class BulkConnectionPool : IDisposable
{
    private readonly BulkTransportSettings _settings;
    private readonly ConcurrentDictionary<BulkEndpoint, EndpointPool> _pools = new();
    private volatile bool _disposed;

    public BulkConnectionPool(BulkTransportSettings settings) => _settings = settings;

    public async Task SendAsync(BulkEndpoint target, BulkFrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pool = _pools.GetOrAdd(target, static (_, n) => new EndpointPool(n), _settings.ConnectionsPerEndpoint);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.TransferTimeout);
        var token = timeout.Token;
        try
        {
            await pool.Slots.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BulkTransferException($"bulk transfer {header.TransferId} to {target}: no connection free within {_settings.TransferTimeout}");
        }

        try
        {
            var headerBytes = new byte[BulkFrameHeader.Size];
            header.Write(headerBytes);
            // A pooled connection may have died while idle (peer restarted): one retry on a fresh one.
            for (var attempt = 0; ; attempt++)
            {
                var reused = pool.TryTakeIdle(out var socket);
                if (!reused)
                {
                    socket = await ConnectAsync(target, token).ConfigureAwait(false);
                }

                try
                {
                    var status = await TransferAsync(socket!, headerBytes, payload, token).ConfigureAwait(false);
                    // On the retry, Duplicate means the first attempt's bytes did arrive (only its answer was lost with the connection).
                    if (status == BulkStatus.Accepted || (status == BulkStatus.Duplicate && attempt > 0))
                    {
                        pool.ReturnIdle(socket!);
                        socket = null;
                        return;
                    }

                    throw new BulkTransferException($"bulk transfer {header.TransferId} ({header.Length} B) to {target} refused: {status}");
                }
                catch (Exception e) when (reused && attempt == 0 && e is SocketException or IOException or EndOfStreamException)
                {
                    // stale pooled connection: try once more on a new one
                }
                finally
                {
                    socket?.Dispose();
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BulkTransferException($"bulk transfer {header.TransferId} to {target} timed out after {_settings.TransferTimeout}");
        }
        catch (Exception e) when (e is SocketException or IOException or EndOfStreamException)
        {
            throw new BulkTransferException($"bulk transfer {header.TransferId} to {target} failed: {e.Message}", e);
        }
        finally
        {
            pool.Slots.Release();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var pool in _pools.Values)
        {
            pool.Dispose();
        }

        _pools.Clear();
    }

    private static async Task<BulkStatus> TransferAsync(Socket socket, byte[] header, ReadOnlyMemory<byte> payload, CancellationToken token)
    {
        await socket.SendAsync(header, SocketFlags.None, token).ConfigureAwait(false);
        while (payload.Length > 0)
        {
            var sent = await socket.SendAsync(payload, SocketFlags.None, token).ConfigureAwait(false);
            payload = payload[sent..];
        }

        var status = new byte[1];
        var got = await socket.ReceiveAsync(status, SocketFlags.None, token).ConfigureAwait(false);
        if (got == 0)
        {
            throw new EndOfStreamException("the bulk listener closed the connection before acknowledging");
        }

        return (BulkStatus)status[0];
    }

    private async Task<Socket> ConnectAsync(BulkEndpoint target, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(_settings.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (_settings.SocketBufferBytes > 0)
        {
            socket.SendBufferSize = _settings.SocketBufferBytes;
            socket.ReceiveBufferSize = _settings.SocketBufferBytes;
        }

        try
        {
            if (IPAddress.TryParse(target.Host, out var address))
            {
                await socket.ConnectAsync(new IPEndPoint(address, target.Port), timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(target.Host, target.Port, timeout.Token).ConfigureAwait(false);
            }

            return socket;
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            socket.Dispose();
            throw new BulkTransferException($"connecting to bulk listener {target} timed out after {_settings.ConnectTimeout}");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class EndpointPool(int connections) : IDisposable
    {
        private readonly Stack<Socket> _idle = new();

        public SemaphoreSlim Slots { get; } = new(connections, connections);

        public bool TryTakeIdle(out Socket? socket)
        {
            lock (_idle)
            {
                return _idle.TryPop(out socket);
            }
        }

        public void ReturnIdle(Socket socket)
        {
            lock (_idle)
            {
                _idle.Push(socket);
            }
        }

        public void Dispose()
        {
            lock (_idle)
            {
                while (_idle.TryPop(out var socket))
                {
                    socket.Dispose();
                }
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;
using Actors.Runtime.Transport;

namespace Actors.Runtime.Tests.Transport;

/// <summary>
/// A transfer whose bytes arrived but whose answer was lost with the connection (a link reset it): the pool retries on a
/// fresh connection, the listener says Duplicate, and that is the first attempt's success, not a failure that would lose
/// the message (found by the chaos drop fault).
/// </summary>
public sealed class BulkRetrySpec
{
    [Fact]
    public async Task A_duplicate_on_the_retry_means_the_first_attempt_arrived()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var statuses = new Queue<BulkStatus?>([BulkStatus.Accepted, null, BulkStatus.Duplicate]); // null: read it, then close without answering
        int transfers = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var socket = await listener.AcceptSocketAsync();
                var header = new byte[BulkFrameHeader.Size];
                try
                {
                    while (true)
                    {
                        for (int got = 0; got < header.Length;) { int n = await socket.ReceiveAsync(header.AsMemory(got)); if (n == 0) throw new IOException(); got += n; }
                        BulkFrameHeader.TryRead(header, out var h);
                        var body = new byte[h.Length];
                        for (int got = 0; got < body.Length;) { int n = await socket.ReceiveAsync(body.AsMemory(got)); if (n == 0) throw new IOException(); got += n; }
                        Interlocked.Increment(ref transfers);
                        if (statuses.Dequeue() is not { } status) break; // the answer is lost: this connection ends
                        await socket.SendAsync(new[] { (byte)status });
                    }
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                }
            }
        });
        using var pool = new BulkConnectionPool(BulkTransportSettings.Default);
        var target = new BulkEndpoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        await pool.SendAsync(target, new BulkFrameHeader(Guid.NewGuid(), 10, 0), new byte[10], CancellationToken.None); // leaves an idle pooled connection
        await pool.SendAsync(target, new BulkFrameHeader(Guid.NewGuid(), 20, 0), new byte[20], CancellationToken.None); // answer lost, retried: Duplicate
        Assert.Equal(3, transfers);
        listener.Stop();
    }
}

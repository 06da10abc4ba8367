using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using Akka.Event;

namespace Actors.Runtime.Transport;

/// <summary>
/// Bulk tensor bytes between nodes on their own TCP connections, so multi-MB payloads neither hit
/// Akka.Remote's frame limit nor starve its heartbeats. One per ActorSystem: a listener
/// (<c>actors.transport</c>), a pool of outbound connections, and a system actor that tells other
/// nodes where the listener is. Akka messages carry only a <see cref="BulkHandle"/>.
/// </summary>
/// <example>
/// Actors never await; they pipe the tasks back to themselves:
/// <code>
/// // sender: push the bytes to the node of `target`, then tell it the handle
/// BulkTransport.Get(Context.System).SendAsync(target, bytes)
///     .PipeTo(target, Self, handle => new ModelBytes(round, handle), e => new Status.Failure(e));
/// // receiver, on ModelBytes m:
/// BulkTransport.Get(Context.System).ReceiveAsync(m.Handle)
///     .PipeTo(Self, Sender, payload => new ModelArrived(m.Round, payload));
/// // on ModelArrived a: using (a.Payload) { ...decode a.Payload.Bytes into a tensor... }
/// </code>
/// </example>
public sealed class BulkTransport : IExtension, IDisposable
{
    /// <summary>Name of the system actor that answers <see cref="GetBulkEndpoint"/> on every node.</summary>
    public const string EndpointActorName = "actors-bulk-transport";

    private readonly ExtendedActorSystem _system;
    private readonly BulkTransportCounters _counters = new();
    private readonly BulkInbox _inbox;
    private readonly BulkBufferPool _buffers;
    private readonly BulkListener _listener;
    private readonly BulkConnectionPool _pool;
    private readonly ConcurrentDictionary<Address, Task<BulkEndpoint>> _endpoints = new();
    private readonly Timer _sweeper;
    private readonly ILoggingAdapter _log;
    private int _disposed;

    public BulkTransport(ExtendedActorSystem system)
    {
        _system = system;
        _log = Logging.GetLogger(system, nameof(BulkTransport));
        Settings = BulkTransportSettings.FromConfig(system.Settings.Config);
        _inbox = new BulkInbox(Settings.MaxBufferedBytes, _counters);
        _pool = new BulkConnectionPool(Settings);
        _buffers = new BulkBufferPool(Settings.MaxTransferBytes, Settings.PooledBuffersPerSize);
        _listener = new BulkListener(Settings, _inbox, _buffers, _counters, (message, e) => _log.Warning(e, message));
        _listener.Start();
        LocalEndpoint = new BulkEndpoint(AdvertisedHost(system, Settings), Settings.PublicPort > 0 ? Settings.PublicPort : _listener.LocalEndPoint.Port);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(
            new[] { Settings.StallTimeout, Settings.UnclaimedTimeout, Settings.ReceiveTimeout }.Min().TotalMilliseconds / 4, 50, 1000));
        _sweeper = new Timer(_ => Sweep(), null, period, period);
        system.SystemActorOf(Props.Create(() => new BulkEndpointActor(LocalEndpoint)), EndpointActorName);
        system.RegisterOnTermination(Dispose);
        _log.Info("bulk transport listening on {0} (advertised {1})", _listener.LocalEndPoint, LocalEndpoint);
    }

    public static BulkTransport Get(ActorSystem system) => system.WithExtension<BulkTransport, BulkTransportProvider>();

    public BulkTransportSettings Settings { get; }

    /// <summary>This node's listener as other nodes reach it.</summary>
    public BulkEndpoint LocalEndpoint { get; }

    public BulkTransportStats Stats => _counters.Snapshot();

    /// <summary>Bytes received and not yet claimed, plus transfers being read.</summary>
    public long BufferedBytes => _inbox.BufferedBytes;

    /// <summary>
    /// Pushes <paramref name="bytes"/> to the listener at <paramref name="target"/>. Completes once the
    /// receiving node holds them (its listener acknowledged), with the handle to tell the receiving actor.
    /// The caller must not change the bytes before the task completes.
    /// </summary>
    public async Task<BulkHandle> SendAsync(BulkEndpoint target, ReadOnlyMemory<byte> bytes, byte codec = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var handle = new BulkHandle(target, Guid.NewGuid(), bytes.Length, codec);
        try
        {
            if (target == LocalEndpoint)
            {
                DeliverLocally(handle, bytes);
            }
            else
            {
                await _pool.SendAsync(target, new BulkFrameHeader(handle.TransferId, bytes.Length, codec), bytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            _counters.SendFailed();
            throw;
        }

        _counters.Sent(bytes.Length);
        return handle;
    }

    /// <summary>Pushes <paramref name="bytes"/> to the node that hosts <paramref name="target"/> (see the other overload).</summary>
    public async Task<BulkHandle> SendAsync(IActorRef target, ReadOnlyMemory<byte> bytes, byte codec = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var address = target.Path.Address;
        var endpoint = await ResolveAsync(address).ConfigureAwait(false);
        try
        {
            return await SendAsync(endpoint, bytes, codec, cancellationToken).ConfigureAwait(false);
        }
        catch (BulkTransferException)
        {
            // The node may have restarted with another port: ask again next time.
            _endpoints.TryRemove(address, out _);
            throw;
        }
    }

    /// <summary>The bulk endpoint of the node at <paramref name="address"/> (asked once, then cached).</summary>
    public Task<BulkEndpoint> ResolveAsync(Address address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.HasLocalScope || address == _system.Provider.DefaultAddress)
        {
            return Task.FromResult(LocalEndpoint);
        }

        var task = _endpoints.GetOrAdd(address, AskEndpointAsync);
        if (task.IsFaulted || task.IsCanceled)
        {
            _endpoints.TryRemove(KeyValuePair.Create(address, task));
        }

        return task;
    }

    /// <summary>
    /// The bytes of the transfer behind <paramref name="handle"/>, as soon as they are on this node.
    /// Fails with <see cref="TimeoutException"/> after <c>receive-timeout</c>, or
    /// <see cref="BulkTransferException"/> if the handle does not fit. Dispose the payload once its
    /// bytes are consumed: that returns the buffer to the pool.
    /// </summary>
    public Task<BulkPayload> ReceiveAsync(BulkHandle handle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.Endpoint.Port != LocalEndpoint.Port)
        {
            return Task.FromException<BulkPayload>(
                new BulkTransferException($"handle {handle.TransferId} is for {handle.Endpoint}, this node is {LocalEndpoint}"));
        }

        if (handle.Size < 0 || handle.Size > Settings.MaxTransferBytes)
        {
            return Task.FromException<BulkPayload>(
                new BulkTransferException($"handle {handle.TransferId} announces {handle.Size} B, max-transfer-bytes is {Settings.MaxTransferBytes}"));
        }

        var claim = _inbox.Claim(handle.TransferId, DateTime.UtcNow + Settings.ReceiveTimeout);
        if (cancellationToken.CanBeCanceled && !claim.IsCompleted)
        {
            var id = handle.TransferId;
            var registration = cancellationToken.Register(() => _inbox.Cancel(id, new OperationCanceledException(cancellationToken)));
            _ = claim.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return CheckSizeAsync(claim, handle);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _sweeper.Dispose();
        _listener.Dispose();
        _pool.Dispose();
        _inbox.FailAll(new BulkTransferException("the bulk transport is shutting down"));
    }

    private static async Task<BulkPayload> CheckSizeAsync(Task<BulkPayload> claim, BulkHandle handle)
    {
        var payload = await claim.ConfigureAwait(false);
        if (payload.Length == handle.Size)
        {
            return payload;
        }

        payload.Dispose();
        throw new BulkTransferException($"transfer {handle.TransferId} carried {payload.Length} B, its handle says {handle.Size} B");
    }

    private void DeliverLocally(BulkHandle handle, ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length > Settings.MaxTransferBytes)
        {
            throw new BulkTransferException($"bulk transfer {handle.TransferId} ({bytes.Length} B) refused: {BulkStatus.Oversized}");
        }

        var status = _inbox.TryReserve(handle.TransferId, bytes.Length);
        if (status != BulkStatus.Accepted)
        {
            throw new BulkTransferException($"bulk transfer {handle.TransferId} ({bytes.Length} B) refused: {status}");
        }

        var copy = _buffers.Rent(bytes.Length);
        bytes.CopyTo(BulkBufferPool.Writable(copy));
        _counters.Received(bytes.Length);
        _inbox.Complete(handle.TransferId, copy, DateTime.UtcNow);
    }

    private Task<BulkEndpoint> AskEndpointAsync(Address address)
    {
        var selection = _system.ActorSelection(new RootActorPath(address) / "system" / EndpointActorName);
        return selection.Ask<BulkEndpoint>(GetBulkEndpoint.Instance, Settings.ResolveTimeout);
    }

    private void Sweep()
    {
        try
        {
            _inbox.Expire(DateTime.UtcNow, Settings.UnclaimedTimeout);
            _listener.AbortStalled(Environment.TickCount64);
        }
        catch (ObjectDisposedException)
        {
            // raced with shutdown
        }
    }

    private static string AdvertisedHost(ExtendedActorSystem system, BulkTransportSettings settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.PublicHostname))
        {
            return settings.PublicHostname;
        }

        var bind = BulkListener.ResolveBindAddress(settings.Host);
        if (!bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any))
        {
            return settings.Host;
        }

        return system.Provider.DefaultAddress.Host ?? Dns.GetHostName();
    }
}

/// <summary>Akka extension id of <see cref="BulkTransport"/>.</summary>
public sealed class BulkTransportProvider : ExtensionIdProvider<BulkTransport>
{
    public override BulkTransport CreateExtension(ExtendedActorSystem system) => new(system);
}

/// <summary>Answers <see cref="GetBulkEndpoint"/> with this node's listener endpoint.</summary>
internal sealed class BulkEndpointActor : ReceiveActor
{
    public BulkEndpointActor(BulkEndpoint endpoint) => Receive<GetBulkEndpoint>(_ => Sender.Tell(endpoint));
}

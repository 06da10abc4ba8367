using Akka.Actor;

namespace Actors.Runtime.Simulation;

/// <summary>
/// Time as the actors see it. Modelled compute goes through <see cref="After"/>; in simulation the clock is virtual
/// and deterministic, in realtime it is the wall clock.
/// </summary>
public interface IClock
{
    TimeSpan Now { get; }

    /// <summary>Delivers <paramref name="message"/> to <paramref name="target"/> after <paramref name="delay"/>, as sent by <paramref name="sender"/>.</summary>
    void After(TimeSpan delay, IActorRef target, object message, IActorRef sender);
}

/// <summary>Who a message is from and to, for the network model and the byte accounting.</summary>
public enum LinkKind
{
    /// <summary>Worker to aggregator (or peer to peer): counted in bytes_uplink.</summary>
    Uplink,
    /// <summary>Aggregator to workers.</summary>
    Downlink,
}

/// <summary>The one seam every learning message goes through: latency, bandwidth and byte accounting live behind it.</summary>
public interface INetwork
{
    /// <param name="from">Participant id of the sender (workers 0..n-1, the aggregator -1).</param>
    /// <param name="to">Participant id of the receiver.</param>
    /// <param name="bytes">Exact serialized size of the message's payload.</param>
    /// <param name="uncompressedBytes">What the same message would cost uncompressed (for bytes_uplink_uncompressed).</param>
    /// <param name="receiverCost">
    /// Modelled time the receiver spends before the message is usable (decoding a compressed payload, `timing.compression-cost`):
    /// the virtual clock delivers that much later; realtime and cluster networks ignore it (there decoding takes real time).
    /// </param>
    void Send(int from, int to, IActorRef target, object message, IActorRef sender, long bytes, long uncompressedBytes, LinkKind kind,
        TimeSpan receiverCost = default);

    NetworkStats Stats { get; }

    /// <summary>
    /// A learning message arrived from another process (cluster mode): networks whose senders count on other nodes record it
    /// here, so the receiving side's counters cover both directions. In-process networks already counted it at <see cref="Send"/>.
    /// </summary>
    void Received(long bytes, long uncompressedBytes, LinkKind kind)
    {
    }

    /// <summary>
    /// The omniscient attackers' tap: a copy of an honest update, not protocol traffic (never counted). In-process it goes
    /// through the clock at zero delay, so simulation order stays deterministic; across nodes it takes the updates' transport.
    /// </summary>
    void Tap(IActorRef target, object message, IActorRef sender, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        clock.After(TimeSpan.Zero, target, message, sender);
    }

    /// <summary>
    /// A message that carries tensors but is not learning traffic (a snapshot for the evaluator): never counted, told at once
    /// in-process; across nodes it takes the learning messages' transport (the side channel when big).
    /// </summary>
    void SendUncounted(IActorRef target, object message, IActorRef sender)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, sender);
    }
}

/// <summary>Learning-message counters (thread-safe).</summary>
public sealed class NetworkStats
{
    private long _messages, _bytes, _uplink, _uplinkUncompressed, _computeTicks, _compressTicks, _linkTicks;

    /// <summary>Modelled worker compute summed over the updates (simulation).</summary>
    public TimeSpan ComputeTime => TimeSpan.FromTicks(Interlocked.Read(ref _computeTicks));

    /// <summary>Modelled encode and decode time summed over the messages (simulation, `timing.compression-cost`).</summary>
    public TimeSpan CompressTime => TimeSpan.FromTicks(Interlocked.Read(ref _compressTicks));

    /// <summary>Modelled link time (latency + bytes / bandwidth) summed over the messages (simulation).</summary>
    public TimeSpan LinkTime => TimeSpan.FromTicks(Interlocked.Read(ref _linkTicks));

    /// <summary>Adds modelled time spent computing, compressing (encode or decode) and on links.</summary>
    public void AddTime(TimeSpan compute, TimeSpan compress, TimeSpan link)
    {
        if (compute > TimeSpan.Zero) Interlocked.Add(ref _computeTicks, compute.Ticks);
        if (compress > TimeSpan.Zero) Interlocked.Add(ref _compressTicks, compress.Ticks);
        if (link > TimeSpan.Zero) Interlocked.Add(ref _linkTicks, link.Ticks);
    }

    public long MessagesSent => Interlocked.Read(ref _messages);
    public long BytesSent => Interlocked.Read(ref _bytes);
    public long BytesUplink => Interlocked.Read(ref _uplink);
    public long BytesUplinkUncompressed => Interlocked.Read(ref _uplinkUncompressed);

    /// <summary>Adds totals counted elsewhere (a checkpoint's, when an aggregator takes over).</summary>
    public void Add(long messages, long bytes, long uplink, long uplinkUncompressed)
    {
        Interlocked.Add(ref _messages, messages);
        Interlocked.Add(ref _bytes, bytes);
        Interlocked.Add(ref _uplink, uplink);
        Interlocked.Add(ref _uplinkUncompressed, uplinkUncompressed);
    }

    public void Record(long bytes, long uncompressed, LinkKind kind)
    {
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _bytes, bytes);
        if (kind == LinkKind.Uplink)
        {
            Interlocked.Add(ref _uplink, bytes);
            Interlocked.Add(ref _uplinkUncompressed, uncompressed);
        }
    }
}

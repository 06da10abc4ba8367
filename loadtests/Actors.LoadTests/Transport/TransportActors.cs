using System.Diagnostics;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Event;
using HdrHistogram;

namespace Actors.LoadTests.Transport;

/// <summary>How a batch of payloads travels from source to sink.</summary>
internal enum TransferPath
{
    /// <summary>Bytes on the bulk side channel; Akka carries the handle and the acknowledgement.</summary>
    SideChannel,

    /// <summary>Bytes inside an Akka message (the contrast: what issue 4 replaces).</summary>
    NaiveAkka,
}

/// <summary>Local message: move these payloads, at most Window in flight, and complete Done.</summary>
internal sealed record RunBatch(TransferPath Path, IReadOnlyList<byte[]> Payloads, int Window, TaskCompletionSource<BatchResult> Done);

internal sealed record BatchResult(long Bytes, int Transfers, TimeSpan Elapsed, LongHistogram LatencyMicros);

/// <summary>
/// Receiving end, on the other node: claims the bytes behind a handle (never blocking: PipeTo) and
/// acknowledges with <see cref="BulkDelivered"/>; for the naive path, acknowledges the byte[] message.
/// </summary>
internal sealed class SinkActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public SinkActor()
    {
        var transport = BulkTransport.Get(Context.System);
        Receive<BulkHandle>(handle => transport.ReceiveAsync(handle)
            .PipeTo(Self, Sender, payload => Consume(handle, payload), e => new Status.Failure(e)));
        Receive<Claimed>(c => Sender.Tell(new BulkDelivered(c.TransferId, c.Length)));
        Receive<byte[]>(bytes => Sender.Tell(new BulkDelivered(Guid.Empty, bytes.Length)));
        Receive<Status.Failure>(f => _log.Error(f.Cause, "claim failed"));
    }

    // Stands in for decoding into a tensor: look at the bytes, then give the buffer back to the pool.
    private static Claimed Consume(BulkHandle handle, BulkPayload payload)
    {
        using (payload)
        {
            var bytes = payload.Bytes.Span;
            return new Claimed(handle.TransferId, bytes.Length > 0 && bytes[0] == bytes[0] ? bytes.Length : 0);
        }
    }

    private sealed record Claimed(Guid TransferId, long Length);
}

/// <summary>Sending end: keeps a window of transfers in flight and times each until its acknowledgement.</summary>
internal sealed class SourceActor : ReceiveActor
{
    private readonly IActorRef _sink;
    private readonly BulkTransport _transport;
    private readonly Queue<long> _naiveStarts = new();
    private readonly Dictionary<Guid, long> _starts = [];
    private RunBatch? _run;
    private LongHistogram _latency = NewHistogram();
    private long _began;
    private long _bytes;
    private int _next;
    private int _done;

    public SourceActor(IActorRef sink)
    {
        _sink = sink;
        _transport = BulkTransport.Get(Context.System);
        Receive<RunBatch>(Start);
        Receive<Pushed>(p =>
        {
            _starts[p.Handle.TransferId] = p.Started;
            _sink.Tell(p.Handle);
        });
        Receive<BulkDelivered>(Delivered);
        Receive<Status.Failure>(f => _run?.Done.TrySetException(f.Cause));
    }

    // Microseconds, up to 10 minutes, 3 significant digits.
    private static LongHistogram NewHistogram() => new(600_000_000L, 3);

    private void Start(RunBatch run)
    {
        _run = run;
        _latency = NewHistogram();
        _next = 0;
        _done = 0;
        _bytes = 0;
        _starts.Clear();
        _naiveStarts.Clear();
        _began = Stopwatch.GetTimestamp();
        for (var i = 0; i < run.Window; i++)
        {
            Launch();
        }
    }

    private void Launch()
    {
        if (_run is null || _next >= _run.Payloads.Count)
        {
            return;
        }

        var payload = _run.Payloads[_next++];
        var started = Stopwatch.GetTimestamp();
        if (_run.Path == TransferPath.NaiveAkka)
        {
            _naiveStarts.Enqueue(started);
            _sink.Tell(payload);
            return;
        }

        _transport.SendAsync(_sink, payload)
            .PipeTo(Self, Self, handle => new Pushed(handle, started), e => new Status.Failure(e));
    }

    private void Delivered(BulkDelivered delivered)
    {
        if (_run is null)
        {
            return;
        }

        var started = delivered.TransferId == Guid.Empty
            ? _naiveStarts.Dequeue()
            : _starts.Remove(delivered.TransferId, out var s) ? s : Stopwatch.GetTimestamp();
        _latency.RecordValue((long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        _bytes += delivered.Size;
        _done++;
        if (_done == _run.Payloads.Count)
        {
            _run.Done.TrySetResult(new BatchResult(_bytes, _done, Stopwatch.GetElapsedTime(_began), _latency));
            _run = null;
            return;
        }

        Launch();
    }

    private sealed record Pushed(BulkHandle Handle, long Started);
}

namespace Actors.Runtime.Transport;

/// <summary>
/// Meeting point of the two halves of a transfer on the receiving node: bytes arriving on the
/// listener, and an actor claiming them by transfer id. Either may come first. Received bytes
/// (and transfers still being read) count against a memory cap; unclaimed bytes and unanswered
/// claims expire.
/// </summary>
internal sealed class BulkInbox
{
    private readonly object _gate = new();
    private readonly Dictionary<Guid, Arrival> _arrived = [];
    private readonly Dictionary<Guid, PendingClaim> _claims = [];
    private readonly HashSet<Guid> _inFlight = [];
    private readonly long _maxBufferedBytes;
    private readonly BulkTransportCounters _counters;
    private long _bufferedBytes;

    public BulkInbox(long maxBufferedBytes, BulkTransportCounters counters)
    {
        _maxBufferedBytes = maxBufferedBytes;
        _counters = counters;
    }

    public long BufferedBytes
    {
        get
        {
            lock (_gate)
            {
                return _bufferedBytes;
            }
        }
    }

    /// <summary>Called once a header is read: reserves room for the payload, or says why not.</summary>
    public BulkStatus TryReserve(Guid id, long length)
    {
        lock (_gate)
        {
            if (_inFlight.Contains(id) || _arrived.ContainsKey(id))
            {
                return BulkStatus.Duplicate;
            }

            if (_bufferedBytes + length > _maxBufferedBytes)
            {
                return BulkStatus.OverCapacity;
            }

            _inFlight.Add(id);
            _bufferedBytes += length;
            return BulkStatus.Accepted;
        }
    }

    /// <summary>The payload did not arrive in full: give the room back.</summary>
    public void Release(Guid id, long length)
    {
        lock (_gate)
        {
            if (_inFlight.Remove(id))
            {
                _bufferedBytes -= length;
            }
        }
    }

    /// <summary>The payload arrived in full: hand it to a waiting claim, or keep it for one.</summary>
    public void Complete(Guid id, BulkPayload bytes, DateTime now)
    {
        PendingClaim? claim;
        lock (_gate)
        {
            _inFlight.Remove(id);
            if (_claims.Remove(id, out claim))
            {
                _bufferedBytes -= bytes.Length;
            }
            else
            {
                _arrived[id] = new Arrival(bytes, now);
            }
        }

        if (claim is not null)
        {
            _counters.Claimed();
            if (!claim.Completion.TrySetResult(bytes))
            {
                bytes.Dispose();
            }
        }
    }

    /// <summary>Claims the bytes of a transfer, now if they arrived, else when they do (or fails at the deadline).</summary>
    public Task<BulkPayload> Claim(Guid id, DateTime deadline)
    {
        lock (_gate)
        {
            if (_arrived.Remove(id, out var arrival))
            {
                _bufferedBytes -= arrival.Bytes.Length;
                _counters.Claimed();
                return Task.FromResult(arrival.Bytes);
            }

            if (_claims.ContainsKey(id))
            {
                return Task.FromException<BulkPayload>(
                    new BulkTransferException($"transfer {id} is already claimed"));
            }

            var claim = new PendingClaim(new TaskCompletionSource<BulkPayload>(TaskCreationOptions.RunContinuationsAsynchronously), deadline);
            _claims[id] = claim;
            return claim.Completion.Task;
        }
    }

    /// <summary>Withdraws a pending claim (the claimer gave up); true if it was still pending.</summary>
    public bool Cancel(Guid id, Exception reason)
    {
        PendingClaim? claim;
        lock (_gate)
        {
            if (!_claims.Remove(id, out claim))
            {
                return false;
            }
        }

        claim.Completion.TrySetException(reason);
        return true;
    }

    /// <summary>Drops bytes nobody claimed in time and fails claims whose bytes never came.</summary>
    public void Expire(DateTime now, TimeSpan unclaimedTimeout)
    {
        List<(Guid Id, PendingClaim Claim)>? expiredClaims = null;
        lock (_gate)
        {
            List<Guid>? stale = null;
            foreach (var (id, arrival) in _arrived)
            {
                if (now - arrival.At >= unclaimedTimeout)
                {
                    (stale ??= []).Add(id);
                }
            }

            foreach (var id in stale ?? [])
            {
                _bufferedBytes -= _arrived[id].Bytes.Length;
                _arrived.Remove(id, out var dropped);
                dropped!.Bytes.Dispose();
                _counters.DroppedUnclaimed();
            }

            foreach (var (id, claim) in _claims)
            {
                if (now >= claim.Deadline)
                {
                    (expiredClaims ??= []).Add((id, claim));
                }
            }

            foreach (var (id, _) in expiredClaims ?? [])
            {
                _claims.Remove(id);
            }
        }

        foreach (var (id, claim) in expiredClaims ?? [])
        {
            _counters.ReceiveTimedOut();
            claim.Completion.TrySetException(new TimeoutException($"bulk transfer {id} did not arrive in time"));
        }
    }

    /// <summary>Fails every pending claim (the node is shutting down).</summary>
    public void FailAll(Exception reason)
    {
        List<PendingClaim> claims;
        lock (_gate)
        {
            claims = [.. _claims.Values];
            _claims.Clear();
            _arrived.Clear();
            _inFlight.Clear();
            _bufferedBytes = 0;
        }

        foreach (var claim in claims)
        {
            claim.Completion.TrySetException(reason);
        }
    }

    private sealed record Arrival(BulkPayload Bytes, DateTime At);

    private sealed record PendingClaim(TaskCompletionSource<BulkPayload> Completion, DateTime Deadline);
}

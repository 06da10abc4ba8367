using Actors.Runtime.Protocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.ParameterServer;

/// <summary>Accepted/dropped counts per worker, staleness histogram, and at-most-once bookkeeping.</summary>
public sealed class UpdateBook(int workers)
{
    private readonly long[] _lastVersion = Enumerable.Repeat(-1L, workers).ToArray();
    private readonly long[] _accepted = new long[workers];
    private readonly long[] _dropped = new long[workers];
    private readonly SortedDictionary<long, long> _staleness = [];
    private readonly Dictionary<string, long> _drops = new() { ["stale"] = 0, ["non_finite"] = 0, ["duplicate"] = 0, ["filtered"] = 0, ["malformed"] = 0 };

    public long UpdatesApplied { get; set; }

    /// <summary>True the first time a worker sends an update for this version (versions only move forward).</summary>
    public bool FirstFor(int worker, long version)
    {
        if (version <= _lastVersion[worker]) return false;
        _lastVersion[worker] = version;
        return true;
    }

    public void Accept(int worker, long staleness)
    {
        _accepted[worker]++;
        _staleness[staleness] = _staleness.GetValueOrDefault(staleness) + 1;
    }

    public void Drop(string reason, int worker, long count = 1)
    {
        _drops[reason] = _drops.GetValueOrDefault(reason) + count;
        if (worker >= 0) _dropped[worker] += count;
    }

    /// <summary>Drops so far by reason (a copy).</summary>
    public IReadOnlyDictionary<string, long> Drops() => new Dictionary<string, long>(_drops);

    /// <summary>Mean and largest staleness of the updates accepted so far (0, 0 before any).</summary>
    public (double Mean, long Max) Staleness()
    {
        long n = _staleness.Values.Sum();
        return n == 0 ? (0, 0) : (_staleness.Sum(p => (double)p.Key * p.Value) / n, _staleness.Keys.Last());
    }

    public AggregatorCounters Counters(long messages, long bytes, long uplink, long uplinkUncompressed) =>
        new(UpdatesApplied, messages, bytes, uplink, uplinkUncompressed, new Dictionary<string, long>(_drops), new SortedDictionary<long, long>(_staleness),
            [.. _accepted], [.. _dropped]);

    /// <summary>Continues from a checkpoint's totals (per-worker counts only when the worker count matches).</summary>
    public void Restore(AggregatorCounters c)
    {
        UpdatesApplied = c.UpdatesApplied;
        foreach (var (reason, count) in c.Drops) _drops[reason] = count;
        foreach (var (staleness, count) in c.Staleness) _staleness[staleness] = count;
        if (c.Accepted.Length == _accepted.Length) c.Accepted.CopyTo(_accepted, 0);
        if (c.Dropped.Length == _dropped.Length) c.Dropped.CopyTo(_dropped, 0);
    }

    /// <param name="divergedAtStep">The step at which the run stopped because no usable update could arrive any more, or null.</param>
    public TrainingStats Stats(long steps, double virtualTime, long? divergedAtStep = null)
    {
        long n = _staleness.Values.Sum();
        double mean = n == 0 ? 0 : _staleness.Sum(kv => (double)kv.Key * kv.Value) / n;
        long max = _staleness.Count == 0 ? 0 : _staleness.Keys.Max();
        var perWorker = Enumerable.Range(0, _accepted.Length).Select(i => new WorkerCounts(i, _accepted[i], _dropped[i])).ToList();
        return new TrainingStats(steps, UpdatesApplied, virtualTime, new Dictionary<string, long>(_drops), mean, max,
            new SortedDictionary<long, long>(_staleness), perWorker, divergedAtStep);
    }
}

using Actors.Learning.Util;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Simulation;

/// <summary>
/// Seeded latency, bandwidth and compute-time distributions. Each link and each worker draws from its own
/// stream derived from the experiment seed, so draws do not depend on the order other actors run in.
/// </summary>
public sealed class NetworkModel
{
    private readonly TimingSpec _t;
    private readonly long _seed;
    private readonly Dictionary<(int, int), Random> _links = [];
    private readonly Dictionary<int, Random> _compute = [];
    private readonly HashSet<int> _fixedStragglers;
    private readonly Lock _gate = new();

    public NetworkModel(TimingSpec timing, long seed, int workers)
    {
        _t = timing;
        _seed = seed;
        int slow = (int)Math.Round(timing.Stragglers.Fraction * workers);
        var rng = Seeds.Random(seed, "stragglers");
        _fixedStragglers = [.. Learning.Data.Partitioner.Permutation(workers, rng).Take(slow).Select(i => (int)i)];
    }

    public bool IsStraggler(int worker) => _fixedStragglers.Contains(worker);

    public double Slowdown => _t.Stragglers.Slowdown;

    /// <summary>Whether realtime and cluster networks delay messages by <see cref="Delivery"/> (`timing.realtime-links`).</summary>
    public bool ShapesRealtimeLinks => _t.RealtimeLinks;

    /// <summary>Latency + bytes / bandwidth for one message on link (from, to).</summary>
    public TimeSpan Delivery(int from, int to, long bytes)
    {
        double ms;
        lock (_gate)
        {
            if (!_links.TryGetValue((from, to), out var rng))
                _links[(from, to)] = rng = Seeds.Random(_seed, "link", ((long)from << 32) ^ (uint)to);
            ms = _t.LatencyDistribution switch
            {
                LatencyDistribution.Uniform => Math.Max(0, _t.LatencyMs + (rng.NextDouble() * 2 - 1) * _t.LatencySpreadMs),
                LatencyDistribution.Lognormal => LogNormal(rng, _t.LatencyMs, _t.LatencySpreadMs),
                _ => _t.LatencyMs,
            };
        }
        if (_t.BandwidthMbps > 0) ms += bytes * 8.0 / (_t.BandwidthMbps * 1e6) * 1000.0;
        return TimeSpan.FromTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond));
    }

    /// <summary>Modelled compute time of one worker step: log-normal around compute-ms, times the straggler slowdown.</summary>
    public TimeSpan Compute(int worker, long step)
    {
        double ms;
        lock (_gate)
        {
            if (!_compute.TryGetValue(worker, out var rng)) _compute[worker] = rng = Seeds.Random(_seed, "compute", worker);
            ms = _t.ComputeJitter > 0 ? _t.ComputeMs * Math.Exp(_t.ComputeJitter * Normal(rng) - _t.ComputeJitter * _t.ComputeJitter / 2) : _t.ComputeMs;
            bool slow = _t.Stragglers.Redraw
                ? Seeds.Random(_seed, "straggler-draw", step * 1_000_003L + worker).NextDouble() < _t.Stragglers.Fraction
                : _fixedStragglers.Contains(worker);
            if (slow) ms *= _t.Stragglers.Slowdown;
        }
        return TimeSpan.FromTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond));
    }

    /// <summary>Log-normal with the given mean and standard deviation (in ms).</summary>
    private static double LogNormal(Random rng, double mean, double spread)
    {
        if (mean <= 0) return 0;
        if (spread <= 0) return mean;
        double s2 = Math.Log(1 + spread * spread / (mean * mean));
        double mu = Math.Log(mean) - s2 / 2;
        return Math.Exp(mu + Math.Sqrt(s2) * Normal(rng));
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

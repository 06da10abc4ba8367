using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Actors.LoadTests.Load;

/// <summary>One step's figures over the measured phases (latencies from HdrHistogram, microsecond resolution).</summary>
public sealed record StepSummary(string Step, long Ok, long Fail, double OkPerSecond, double MeanMs, double P50Ms, double P75Ms, double P95Ms, double P99Ms,
    double MaxMs, double MBPerSecond, IReadOnlyDictionary<string, long> Errors)
{
    public double FailPercent => Ok + Fail == 0 ? 0 : 100.0 * Fail / (Ok + Fail);

    public double Value(Metric m) => m switch
    {
        Metric.P50Ms => P50Ms,
        Metric.P75Ms => P75Ms,
        Metric.P95Ms => P95Ms,
        Metric.P99Ms => P99Ms,
        Metric.MaxMs => MaxMs,
        Metric.FailPercent => FailPercent,
        Metric.OkPerSecond => OkPerSecond,
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };
}

/// <summary>One second of one step: completions, failures and latency percentiles of what completed in it.</summary>
public sealed record TimelinePoint(int Second, long Ok, long Fail, double P50Ms, double P99Ms);

public sealed record ThresholdOutcome(Threshold Threshold, string Step, double Value, bool Holds);

public sealed record ScenarioResult(LoadScenario Scenario, TimeSpan Duration, IReadOnlyList<StepSummary> Steps,
    IReadOnlyDictionary<string, IReadOnlyList<TimelinePoint>> Timeline, IReadOnlyList<ThresholdOutcome> Thresholds, IReadOnlyDictionary<string, string> Figures,
    string? Error)
{
    public bool Passed => Error is null && Thresholds.All(t => t.Holds);
}

/// <summary>
/// Runs a <see cref="LoadScenario"/>: the set-up, the warm-up (not measured), each simulation phase in turn, then the
/// tear-down; every step execution is timed into the step's HdrHistogram and its one-second bucket. The open model
/// ticks every 50 ms and starts the arrivals due (fractions carry over), so the rate holds however slow the answers
/// are (up to <see cref="LoadScenario.MaxInFlight"/>); the closed model keeps the phase's number of copies looping.
/// After the last phase, iterations still running get <see cref="DrainTimeout"/> to finish, then are cancelled.
/// </summary>
public static class LoadRunner
{
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);

    public static async Task<ScenarioResult> RunAsync(LoadScenario scenario, Action<string>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Steps.Count == 0) throw new ArgumentException($"scenario {scenario.Name}: no steps");
        if (scenario.Simulations.Count == 0) throw new ArgumentException($"scenario {scenario.Name}: no load simulations");
        var clock = Stopwatch.StartNew();
        Recorder? measured = null;
        string? error = null;
        try
        {
            if (scenario.Init is { } init) await init(cancellation).ConfigureAwait(false);
            if (scenario.WarmUp > TimeSpan.Zero)
            {
                progress?.Invoke($"{scenario.Name}: warm-up {scenario.WarmUp.TotalSeconds:0.#} s");
                LoadSimulation first = scenario.Simulations[0] switch
                {
                    LoadSimulation.RampingInject r => new LoadSimulation.Inject(r.Rate, scenario.WarmUp),
                    LoadSimulation.RampingConstant r => new LoadSimulation.KeepConstant(r.Copies, scenario.WarmUp),
                    LoadSimulation.Inject i => i with { During = scenario.WarmUp },
                    LoadSimulation.KeepConstant k => k with { During = scenario.WarmUp },
                    _ => throw new InvalidOperationException(),
                };
                await RunPhases(scenario, [first], new Recorder(scenario.Steps), progress, cancellation).ConfigureAwait(false);
            }
            measured = new Recorder(scenario.Steps);
            clock.Restart();
            await RunPhases(scenario, scenario.Simulations, measured, progress, cancellation).ConfigureAwait(false);
            clock.Stop(); // the measured time: the phases and the drain, not the tear-down
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            if (scenario.Clean is { } clean)
            {
                try
                {
                    await clean().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    error ??= $"clean-up: {e.GetType().Name}: {e.Message}";
                }
            }
        }
        var duration = clock.Elapsed; // stopped after the phases (or where the set-up or a phase failed)
        measured ??= new Recorder(scenario.Steps);
        var steps = scenario.Steps.Select(s => measured.Summarize(s.Name, duration)).ToList();
        var timeline = scenario.Steps.ToDictionary(s => s.Name, s => measured.Timeline(s.Name), StringComparer.Ordinal);
        var outcomes = new List<ThresholdOutcome>();
        foreach (var t in scenario.Thresholds)
        {
            var targets = t.Step is null ? steps : steps.Where(s => s.Step == t.Step).ToList();
            if (targets.Count == 0)
                outcomes.Add(new ThresholdOutcome(t, t.Step ?? "-", double.NaN, false)); // a threshold on a step that does not exist fails, visibly
            foreach (var s in targets) outcomes.Add(new ThresholdOutcome(t, s.Step, s.Value(t.Metric), t.Holds(s.Value(t.Metric))));
        }
        IReadOnlyDictionary<string, string> figures = new Dictionary<string, string>();
        try
        {
            if (scenario.Figures is { } f) figures = f();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            figures = new Dictionary<string, string> { ["figures"] = $"not available: {e.Message}" };
        }
        return new ScenarioResult(scenario, duration, steps, timeline, outcomes, figures, error);
    }

    private static async Task RunPhases(LoadScenario scenario, IReadOnlyList<LoadSimulation> phases, Recorder recorder, Action<string>? progress,
        CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var running = new ConcurrentDictionary<long, Task>();
        var copies = new List<(Task Loop, CancellationTokenSource Stop)>();
        var retired = new List<(Task Loop, CancellationTokenSource Stop)>(); // copies told to stop after their current iteration
        long invocations = 0;
        int inFlight = 0;
        double level = 0; // rate (open) or copies (closed) at the end of the previous phase
        var phaseClock = Stopwatch.StartNew();
        for (int p = 0; p < phases.Count; p++)
        {
            var phase = phases[p];
            progress?.Invoke($"{scenario.Name}: {phase}");
            double from = level, to = phase switch
            {
                LoadSimulation.Inject i => i.Rate,
                LoadSimulation.RampingInject r => r.Rate,
                LoadSimulation.KeepConstant k => k.Copies,
                LoadSimulation.RampingConstant r => r.Copies,
                _ => 0,
            };
            bool ramp = phase is LoadSimulation.RampingInject or LoadSimulation.RampingConstant;
            if (phase.IsOpen && copies.Count > 0)
            {
                // an open phase after a closed one: the copies end, arrivals take over (a ramp starts from zero)
                foreach (var c in copies) await c.Stop.CancelAsync().ConfigureAwait(false);
                retired.AddRange(copies);
                copies.Clear();
                from = 0;
            }
            else if (!phase.IsOpen && p > 0 && phases[p - 1].IsOpen)
            {
                from = 0; // a closed phase after an open one: copies start from none
            }
            var start = phaseClock.Elapsed;
            double due = 0;
            var last = start;
            while (!cancellation.IsCancellationRequested)
            {
                // Capped at the phase's end: a late last tick must not add arrivals beyond rate x duration.
                var now = phaseClock.Elapsed - start > phase.During ? start + phase.During : phaseClock.Elapsed;
                double fraction = Math.Min(1, (now - start) / phase.During);
                double current = ramp ? from + (to - from) * fraction : to;
                if (phase.IsOpen)
                {
                    // The arrivals due since the last tick: the rate's integral over it (exact for a ramp, however late the tick).
                    double rateThen = ramp ? from + (to - from) * Math.Min(1, (last - start) / phase.During) : to;
                    due += (rateThen + current) / 2 * (now - last).TotalSeconds;
                    while (due >= 1)
                    {
                        due -= 1;
                        long n = invocations++;
                        if (Volatile.Read(ref inFlight) >= scenario.MaxInFlight)
                        {
                            recorder.Record(scenario.Steps[0].Name, TimeSpan.Zero, StepResult.Fail("overloaded: max in flight reached"));
                            continue;
                        }
                        Interlocked.Increment(ref inFlight);
                        var context = new StepContext(n, (int)(n % int.MaxValue), new Random(Seed(scenario.Seed, n)), stop.Token);
                        running[n] = Task.Run(async () =>
                        {
                            try
                            {
                                await Iterate(scenario, context, recorder).ConfigureAwait(false);
                            }
                            finally
                            {
                                Interlocked.Decrement(ref inFlight);
                                running.TryRemove(n, out _);
                            }
                        }, CancellationToken.None);
                    }
                }
                else
                {
                    int want = (int)Math.Round(current);
                    while (copies.Count < want)
                    {
                        var copyStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                        int copy = copies.Count + retired.Count;
                        copies.Add((Task.Run(() => Loop(scenario, copy, recorder, copyStop.Token, stop.Token), CancellationToken.None), copyStop));
                    }
                    while (copies.Count > want)
                    {
                        var retiring = copies[^1];
                        copies.RemoveAt(copies.Count - 1);
                        await retiring.Stop.CancelAsync().ConfigureAwait(false); // ends after its current iteration
                        retired.Add(retiring);
                    }
                }
                last = now;
                if (now - start >= phase.During) break;
                await Task.Delay(Tick, CancellationToken.None).ConfigureAwait(false);
            }
            level = to;
        }
        foreach (var (_, copyStop) in copies) await copyStop.CancelAsync().ConfigureAwait(false);
        copies.AddRange(retired);
        var all = running.Values.Concat(copies.Select(c => c.Loop)).ToArray();
        await Task.WhenAny(Task.WhenAll(all), Task.Delay(DrainTimeout, CancellationToken.None)).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false); // whatever still runs after the drain is cancelled
        await Task.WhenAny(Task.WhenAll(all), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        foreach (var (_, copyStop) in copies) copyStop.Dispose();
    }

    private static async Task Loop(LoadScenario scenario, int copy, Recorder recorder, CancellationToken copyStop, CancellationToken stop)
    {
        var rng = new Random(Seed(scenario.Seed, -1 - copy));
        long n = 0;
        while (!copyStop.IsCancellationRequested)
            await Iterate(scenario, new StepContext(n++, copy, rng, stop), recorder).ConfigureAwait(false);
    }

    private static int Seed(int seed, long n) => HashCode.Combine(seed, n);

    private static async Task Iterate(LoadScenario scenario, StepContext context, Recorder recorder)
    {
        foreach (var step in scenario.Steps)
        {
            var started = Stopwatch.GetTimestamp();
            StepResult result;
            try
            {
                result = await step.Run(context).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.Cancellation.IsCancellationRequested)
            {
                result = StepResult.Fail("cancelled at the end of the run");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                result = StepResult.Fail($"{e.GetType().Name}: {e.Message}");
            }
            recorder.Record(step.Name, Stopwatch.GetElapsedTime(started), result);
            if (!result.Ok) return; // a failed step ends its iteration
        }
    }

    /// <summary>Per step: the whole-run histogram, counters, errors by message, and one histogram per second.</summary>
    internal sealed class Recorder
    {
        private const long HighestMicros = 3_600_000_000; // one hour
        private readonly Dictionary<string, StepRecord> _steps;
        private readonly long _start = Stopwatch.GetTimestamp();

        public Recorder(IEnumerable<LoadStep> steps) => _steps = steps.ToDictionary(s => s.Name, _ => new StepRecord(), StringComparer.Ordinal);

        private sealed class StepRecord
        {
            public readonly LongConcurrentHistogram Latency = new(1, HighestMicros, 3);
            public readonly ConcurrentDictionary<string, long> Errors = new(StringComparer.Ordinal);
            public readonly ConcurrentDictionary<int, (LongConcurrentHistogram Latency, long[] Counts)> Seconds = new();
            public long Ok, Fail, Bytes;
        }

        public void Record(string step, TimeSpan latency, StepResult result)
        {
            var r = _steps[step];
            long micros = Math.Clamp((long)latency.TotalMicroseconds, 1, HighestMicros);
            int second = (int)Stopwatch.GetElapsedTime(_start).TotalSeconds;
            var bucket = r.Seconds.GetOrAdd(second, _ => (new LongConcurrentHistogram(1, HighestMicros, 3), new long[2]));
            if (result.Ok)
            {
                r.Latency.RecordValue(micros);
                bucket.Latency.RecordValue(micros);
                Interlocked.Increment(ref r.Ok);
                Interlocked.Increment(ref bucket.Counts[0]);
                Interlocked.Add(ref r.Bytes, result.Bytes);
            }
            else
            {
                Interlocked.Increment(ref r.Fail);
                Interlocked.Increment(ref bucket.Counts[1]);
                var key = result.Error ?? "failed";
                r.Errors.AddOrUpdate(key.Length > 200 ? key[..200] : key, 1, (_, c) => c + 1);
            }
        }

        public StepSummary Summarize(string step, TimeSpan duration)
        {
            var r = _steps[step];
            var h = r.Latency;
            double seconds = Math.Max(duration.TotalSeconds, 1e-9);
            bool any = h.TotalCount > 0;
            double Ms(double p) => any ? h.GetValueAtPercentile(p) / 1000.0 : double.NaN;
            return new StepSummary(step, r.Ok, r.Fail, r.Ok / seconds, any ? h.GetMean() / 1000.0 : double.NaN, Ms(50), Ms(75), Ms(95), Ms(99),
                any ? h.GetMaxValue() / 1000.0 : double.NaN, r.Bytes / seconds / 1e6, new Dictionary<string, long>(r.Errors, StringComparer.Ordinal));
        }

        public IReadOnlyList<TimelinePoint> Timeline(string step) =>
            [.. _steps[step].Seconds.OrderBy(s => s.Key).Select(s => new TimelinePoint(s.Key, s.Value.Counts[0], s.Value.Counts[1],
                s.Value.Latency.TotalCount > 0 ? s.Value.Latency.GetValueAtPercentile(50) / 1000.0 : double.NaN,
                s.Value.Latency.TotalCount > 0 ? s.Value.Latency.GetValueAtPercentile(99) / 1000.0 : double.NaN))];
    }
}

using System.Globalization;

namespace Actors.LoadTests.Load;

/// <summary>What one execution of a step reports: ok or failed (with why), and the bytes it moved (for throughput in MB/s).</summary>
public readonly record struct StepResult(bool Ok, long Bytes = 0, string? Error = null)
{
    public static StepResult Success(long bytes = 0) => new(true, bytes);

    public static StepResult Fail(string error) => new(false, 0, error);
}

/// <summary>What a step sees of its execution: which copy runs it (closed model: the virtual user; open model: the invocation), a seeded random, the cancellation of the phase.</summary>
public sealed record StepContext(long Invocation, int Copy, Random Random, CancellationToken Cancellation);

/// <summary>A named step of a scenario; a scenario's steps run one after the other in each of its iterations.</summary>
public sealed record LoadStep(string Name, Func<StepContext, Task<StepResult>> Run);

/// <summary>
/// A load simulation phase (NBomber's concepts): <see cref="Inject"/> starts <c>Rate</c> iterations per second whether or not
/// earlier ones ended (the open model: arrivals do not wait for the system), <see cref="KeepConstant"/> keeps <c>Copies</c>
/// iterations running back to back (the closed model: each copy waits for its answer), <see cref="RampingInject"/> and
/// <see cref="RampingConstant"/> move linearly from the previous phase's level to theirs over the phase.
/// </summary>
public abstract record LoadSimulation(TimeSpan During)
{
    public sealed record Inject(double Rate, TimeSpan During) : LoadSimulation(During);

    public sealed record RampingInject(double Rate, TimeSpan During) : LoadSimulation(During);

    public sealed record KeepConstant(int Copies, TimeSpan During) : LoadSimulation(During);

    public sealed record RampingConstant(int Copies, TimeSpan During) : LoadSimulation(During);

    public bool IsOpen => this is Inject or RampingInject;

    public sealed override string ToString() => this switch
    {
        Inject i => string.Create(CultureInfo.InvariantCulture, $"inject {i.Rate:0.##}/s for {i.During.TotalSeconds:0.#} s"),
        RampingInject r => string.Create(CultureInfo.InvariantCulture, $"ramp inject to {r.Rate:0.##}/s over {r.During.TotalSeconds:0.#} s"),
        KeepConstant k => string.Create(CultureInfo.InvariantCulture, $"keep {k.Copies} constant for {k.During.TotalSeconds:0.#} s"),
        RampingConstant r => string.Create(CultureInfo.InvariantCulture, $"ramp to {r.Copies} constant over {r.During.TotalSeconds:0.#} s"),
        _ => GetType().Name,
    };
}

/// <summary>A figure of a step's statistics that a threshold bounds.</summary>
public enum Metric
{
    /// <summary>Latency percentiles and maximum, milliseconds.</summary>
    P50Ms, P75Ms, P95Ms, P99Ms, MaxMs,

    /// <summary>Failed executions, percent of all.</summary>
    FailPercent,

    /// <summary>Ok executions per second over the measured duration.</summary>
    OkPerSecond,
}

/// <summary>A condition the scenario must meet: <c>Metric</c> of <c>Step</c> (null: every step) is at most (or at least) <c>Limit</c>.</summary>
public sealed record Threshold(string? Step, Metric Metric, double Limit, bool AtMost = true)
{
    public bool Holds(double value) => AtMost ? value <= Limit : value >= Limit;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Step ?? "every step"}: {Metric} {(AtMost ? "<=" : ">=")} {Limit:0.###}");

    /// <summary>Parses <c>[step:]metric&lt;=value</c> or <c>&gt;=</c>, e.g. <c>apply:p99ms&lt;=1000</c>, <c>failpercent&lt;=1</c>.</summary>
    public static Threshold Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool atMost = text.Contains("<=", StringComparison.Ordinal);
        var parts = text.Split(atMost ? "<=" : ">=", 2);
        if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var limit))
            throw new ArgumentException($"threshold '{text}': expected [step:]metric<=value or [step:]metric>=value (metrics: {string.Join(", ", Enum.GetNames<Metric>())})");
        var left = parts[0].Split(':', 2);
        var (step, metricName) = left.Length == 2 ? (left[0], left[1]) : ((string?)null, left[0]);
        if (!Enum.TryParse<Metric>(metricName.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var metric))
            throw new ArgumentException($"threshold '{text}': unknown metric '{metricName}' (valid: {string.Join(", ", Enum.GetNames<Metric>())})");
        return new Threshold(step, metric, limit, atMost);
    }
}

/// <summary>
/// A load scenario: its steps (run in order in each iteration), an optional set-up and tear-down around everything, a
/// warm-up (run with the first simulation's shape, not measured) and the measured simulation phases, and the thresholds
/// that fail it. <see cref="MaxInFlight"/> bounds the open model: an arrival beyond it fails as "overloaded" instead of
/// piling up without bound.
/// </summary>
public sealed record LoadScenario(string Name, IReadOnlyList<LoadStep> Steps, IReadOnlyList<LoadSimulation> Simulations)
{
    public string Description { get; init; } = "";

    public TimeSpan WarmUp { get; init; } = TimeSpan.Zero;

    public IReadOnlyList<Threshold> Thresholds { get; init; } = [];

    public Func<CancellationToken, Task>? Init { get; init; }

    public Func<Task>? Clean { get; init; }

    public int MaxInFlight { get; init; } = 10_000;

    public int Seed { get; init; } = 1;

    /// <summary>Extra figures the scenario measured itself (e.g. the peak memory of a node), shown in the report.</summary>
    public Func<IReadOnlyDictionary<string, string>>? Figures { get; init; }
}

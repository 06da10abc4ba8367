using Actors.Runtime.Experiments;
using Actors.Runtime.Protocol;
using Akka.Actor;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Engine;

/// <summary>
/// An experiment kind (`experiment.kind`): what a run trains and how its actors talk. Everything shared (clock, network
/// model, attacks, aggregators, compression, the run directory and its report) lives outside; a kind is one folder behind
/// this interface plus one line in the registry (<c>Running/ExperimentKinds</c>).
/// </summary>
public interface IExperimentKind
{
    /// <summary>The `experiment.kind` name.</summary>
    string Name { get; }

    /// <summary>Checks the kind's own section against the rest of the spec; throws <see cref="ExperimentConfigException"/>.</summary>
    void Validate(ExperimentSpec spec);

    /// <summary>One line for the start of a run (e.g. the topology and its spectral gap), or null.</summary>
    string? Banner(ExperimentSpec spec) => null;

    /// <summary>metrics.csv columns after the common ones (<see cref="MetricsRow.Extras"/> holds their values, in order).</summary>
    IReadOnlyList<MetricColumn> Columns(ExperimentSpec spec) => [];

    /// <summary>Whether a final test loss far above the initial one means the run went wrong (not for a game, whose loss is a player's).</summary>
    bool FlagsLossGrowth => true;

    /// <summary>summary.md's first paragraph, and the title of the plots.</summary>
    (string Description, string PlotTitle) Report(ExperimentSpec spec);

    /// <summary>summary.json keys that summary.md lists after the common ones.</summary>
    IReadOnlyList<string> MarkdownKeys => [];

    /// <summary>Writes the kind's own plots into <paramref name="directory"/>; returns their file names (for summary.md).</summary>
    IReadOnlyList<string> WritePlots(string directory, ExperimentSpec spec, string title, IReadOnlyList<MetricsRow> rows) => [];

    /// <summary>
    /// An estimate of the run's peak memory in bytes, from the spec alone (before anything is loaded), or null when the
    /// kind cannot tell. The CLI prints it and refuses a run whose estimate exceeds the machine's available memory.
    /// </summary>
    long? EstimateBytes(ExperimentSpec spec) => null;

    /// <summary>Builds the run's learning parts (data, models, ...) before any actor exists; bad input fails here.</summary>
    IKindRun Prepare(ExperimentSpec spec, Action<string> warn);
}

/// <summary>A prepared run of one kind: its learning parts and its coordinator.</summary>
public interface IKindRun : IDisposable
{
    /// <summary>Where the data came from (summary.json `data_source`).</summary>
    string DataSource { get; }

    /// <summary>Trainable parameters of the model (summary.json `parameters`).</summary>
    long Parameters { get; }

    /// <summary>The run's top actor: spawns the kind's actors, reports rows to the sink, completes <see cref="RunContext.Done"/>.</summary>
    Props Coordinator(RunContext context);
}

/// <summary>What a run's coordinator is given: the spec, live progress, where rows go, and where the outcome goes.</summary>
public sealed record RunContext(ExperimentSpec Spec, RunProgress Progress, IRunSink Sink, TaskCompletionSource<RunOutcome> Done);

/// <summary>Receives metrics rows as they are measured (the run directory; flushed per row).</summary>
public interface IRunSink
{
    void Append(MetricsRow row);

    /// <summary>A file of the run's own beside the standard outputs (e.g. compression-cost.json); ignored by default.</summary>
    void WriteFile(string name, string content)
    {
    }

    /// <summary>Samples a generative model produced at <paramref name="step"/> (a picture per evaluation); ignored by default.</summary>
    void WriteSamples(long step, Learning.Training.SampleSet samples)
    {
    }
}

/// <summary>One extra metrics.csv column: its name and the .NET number format of its values.</summary>
public sealed record MetricColumn(string Name, string Format = MetricColumn.Fixed)
{
    /// <summary>Six decimals (losses, accuracies).</summary>
    public const string Fixed = "0.######";

    /// <summary>Ten significant digits in scientific notation (figures that span many decades).</summary>
    public const string Scientific = "0.#########E+0";
}

/// <summary>One evaluation: the run's counters, the test figures and the kind's extra columns.</summary>
public sealed record MetricsRow(RunCounters Counters, double TestLoss, double TestAccuracy, bool Final, IReadOnlyList<double> Extras)
{
    public MetricsRow(EvaluationResult r) : this((r ?? throw new ArgumentNullException(nameof(r))).Counters, r.TestLoss, r.TestAccuracy, r.Final, r.Extras ?? [])
    {
    }
}

namespace Actors.Runtime.Engine;

/// <summary>Live progress of a run, written by the actors and polled by the CLI (thread-safe).</summary>
public sealed class RunProgress(long totalSteps)
{
    private long _step;
    private double _accuracy = double.NaN, _loss = double.NaN;

    public long TotalSteps { get; } = totalSteps;
    public long Step => Interlocked.Read(ref _step);
    public double LastAccuracy => Volatile.Read(ref _accuracy);
    public double LastLoss => Volatile.Read(ref _loss);

    public void ReportStep(long step) => Interlocked.Exchange(ref _step, step);

    public void ReportEvaluation(double loss, double accuracy)
    {
        Volatile.Write(ref _loss, loss);
        Volatile.Write(ref _accuracy, accuracy);
    }

    private Book? _book;

    /// <summary>The aggregator's drops by reason and staleness as of its last evaluation (null before one; local runs only).</summary>
    public Book? LastBook => Volatile.Read(ref _book);

    public void ReportBook(IReadOnlyDictionary<string, long> drops, double stalenessMean, long stalenessMax) =>
        Volatile.Write(ref _book, new Book(drops, stalenessMean, stalenessMax));

    public sealed record Book(IReadOnlyDictionary<string, long> Drops, double StalenessMean, long StalenessMax);
}

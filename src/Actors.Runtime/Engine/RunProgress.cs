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
}

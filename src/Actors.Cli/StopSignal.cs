using System.Runtime.InteropServices;

namespace Actors.Cli;

/// <summary>
/// A cancellation token that fires on Ctrl-C, on SIGTERM or when the caller's token does, so a long-running verb (a
/// node, a local cluster) can shut down cleanly instead of being killed. Disposing it unhooks both signals.
/// </summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _sigterm;

    public StopSignal(CancellationToken caller)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(caller);
        Console.CancelKeyPress += OnCancelKeyPress;
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            _stop.Cancel();
        });
    }

    public CancellationToken Token => _stop.Token;

    public bool IsStopRequested => _stop.IsCancellationRequested;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _sigterm.Dispose();
        _stop.Dispose();
    }
}

using TorchSharp;

namespace Actors.Learning.Util;

/// <summary>
/// Process-wide TorchSharp settings; call once at start-up (set_num_threads is process-wide).
/// Default: one intra-op thread. Per-message tensors here are small (a batch of 32 through an MLP), where OpenMP teams
/// gain little and, on a busy machine, lose a lot: measured 8 ms vs 80-140 ms per MLP step with 2 threads under load.
/// Override with $ACTORS_TORCH_THREADS.
/// </summary>
public static class TorchSetup
{
    private static int _initialized;

    public static int Threads { get; private set; } = 1;

    public static void Initialize(int threads = 0)
    {
        if (Interlocked.Exchange(ref _initialized, 1) == 1) return;
        if (threads <= 0 && int.TryParse(Environment.GetEnvironmentVariable("ACTORS_TORCH_THREADS"), out var fromEnv)) threads = fromEnv;
        if (threads <= 0) threads = 1;
        Threads = threads;
        torch.set_num_threads(threads);
    }
}

using TorchSharp;

namespace Actors.Learning.Util;

/// <summary>Process-wide TorchSharp settings; call once at start-up (set_num_threads is process-wide).</summary>
public static class TorchSetup
{
    private static int _initialized;

    public static void Initialize(int threads = 0)
    {
        if (Interlocked.Exchange(ref _initialized, 1) == 1) return;
        if (threads <= 0) threads = Math.Max(1, Environment.ProcessorCount);
        torch.set_num_threads(threads);
        torch.set_num_interop_threads(1);
    }
}

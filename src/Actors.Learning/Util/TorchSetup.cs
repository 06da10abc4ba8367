using System.Runtime.InteropServices;
using TorchSharp;

namespace Actors.Learning.Util;

/// <summary>
/// Process-wide TorchSharp settings; call once at start-up (set_num_threads is process-wide).
/// Default: one intra-op thread. Per-message tensors here are small (a batch of 32 through an MLP), where OpenMP teams
/// gain little and, on a busy machine, lose a lot: measured 8 ms vs 80-140 ms per MLP step with 2 threads under load.
/// Override with $ACTORS_TORCH_THREADS.
/// </summary>
public static partial class TorchSetup
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
        KeepFreedTensorMemory();
    }

    private const int MTrimThreshold = -1, MMmapThreshold = -3;

    /// <summary>
    /// glibc hands blocks above its mmap threshold straight back to the kernel when they are freed, and trims the heap
    /// top above its trim threshold; every model-sized tensor allocated afterwards then page-faults its memory in
    /// again. Per-round tensors here (models, updates, stacks of updates) are 1-100 MB and come and go every round, so
    /// keep freed memory in the process: mmap only above 32 MB (glibc's maximum) and never trim. Opt out with
    /// ACTORS_MALLOC_DEFAULTS=1.
    /// </summary>
    private static void KeepFreedTensorMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("ACTORS_MALLOC_DEFAULTS") == "1") return;
        try
        {
            KeepsFreedMemory = Mallopt(MMmapThreshold, 32 * 1024 * 1024) == 1 & Mallopt(MTrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc (e.g. musl): its allocator keeps its own policy
        }
    }

    /// <summary>True once glibc accepted the thresholds (false elsewhere, or with ACTORS_MALLOC_DEFAULTS=1).</summary>
    public static bool KeepsFreedMemory { get; private set; }

    // The soname: plain "libc" can resolve to glibc's libc.so linker script, which is not a loadable library.
    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);
}

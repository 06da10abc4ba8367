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
        if (threads > 0 && Volatile.Read(ref _initialized) == 1 && threads != Threads)
        {
            torch.set_num_threads(threads); // compute.threads of a run, after start-up
            Threads = threads;
            return;
        }
        if (Interlocked.Exchange(ref _initialized, 1) == 1) return;
        if (threads <= 0 && int.TryParse(Environment.GetEnvironmentVariable("ACTORS_TORCH_THREADS"), out var fromEnv)) threads = fromEnv;
        if (threads <= 0) threads = 1;
        Threads = threads;
        torch.set_num_threads(threads);
        KeepFreedTensorMemory();
    }

    /// <summary>Where models, batches and the aggregator's tensors live (<c>compute.device</c>); every factory call without a device lands here.</summary>
    public static torch.Device Device { get; private set; } = torch.CPU;

    /// <summary>True when <see cref="Device"/> is the CPU: host reads need no copy.</summary>
    public static bool OnCpu => Device.type == DeviceType.CPU;

    /// <summary>
    /// Chooses the device for <c>compute.device</c>: <c>cpu</c>; <c>cuda</c> (fails when this libtorch has no CUDA or sees no
    /// GPU, naming the build switch); <c>auto</c> (CUDA when available, else CPU). Returns a line saying what was chosen.
    /// Process-wide, like the thread count: every later tensor without an explicit device is created there.
    /// </summary>
    public static string UseDevice(string setting)
    {
        var chosen = Resolve(setting);
        if (chosen.type != Device.type)
        {
            torch.set_default_device(chosen);
            Device = chosen;
        }
        return setting == "auto" && chosen.type == DeviceType.CPU
            ? "compute.device = auto: no CUDA device (or a CPU-only libtorch), running on CPU"
            : $"compute device: {(chosen.type == DeviceType.CUDA ? "cuda" : "cpu")}, {Threads} torch thread(s)";
    }

    /// <summary>The device <c>compute.device</c> names on this machine, without switching to it; throws when it is not usable.</summary>
    public static torch.Device Resolve(string setting)
    {
        bool cuda = setting != "cpu" && CudaAvailable();
        return setting switch
        {
            "cpu" => torch.CPU,
            "cuda" when cuda => torch.CUDA,
            "cuda" => throw new ComputeDeviceException(
                "compute.device = cuda: this build's libtorch has no CUDA (or no GPU is visible). Build with -p:TorchBackend=cuda on linux-x64 " +
                "(the CUDA 12.8 libtorch) on a machine with an NVIDIA driver, or set compute.device = cpu | auto"),
            "auto" => cuda ? torch.CUDA : torch.CPU,
            _ => throw new ComputeDeviceException($"compute.device = {setting} is not valid (valid: cpu, cuda, auto)"),
        };
    }

    /// <summary>Whether this libtorch can use a GPU (false with a CPU-only libtorch, whatever the machine has).</summary>
    public static bool CudaAvailable()
    {
        try
        {
            return torch.cuda.is_available();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or ExternalException)
        {
            return false;
        }
    }

    /// <summary>A random generator on <see cref="Device"/> (a CPU generator cannot drive sampling on a GPU).</summary>
    public static torch.Generator Generator(ulong seed) => new(seed, Device);

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

/// <summary>The compute device asked for is not usable here (bad input: the message says what to do).</summary>
public sealed class ComputeDeviceException(string message) : Exception(message);

/// <summary>Host reads of tensor values, right wherever the tensor lives.</summary>
public static class HostTensors
{
    /// <summary>The values of a contiguous tensor as a managed array (copied to the host first when it lives on a device).</summary>
    public static T[] ToHostArray<T>(this torch.Tensor tensor) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (TorchSetup.OnCpu || tensor.device_type == DeviceType.CPU) return tensor.data<T>().ToArray();
        using var host = tensor.cpu();
        return host.data<T>().ToArray();
    }

    /// <summary><paramref name="tensor"/> on <see cref="TorchSetup.Device"/> (itself when it is there already; otherwise a moved copy, the original disposed).</summary>
    public static torch.Tensor OnDevice(this torch.Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (TorchSetup.OnCpu || tensor.device_type == TorchSetup.Device.type) return tensor;
        var moved = tensor.to(TorchSetup.Device);
        tensor.Dispose();
        return moved;
    }
}

using System.Globalization;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Engine;

/// <summary>
/// The memory guard of a run: the kind's estimate of its peak against what the machine has available, checked before
/// anything is loaded, so a spec that would exhaust the machine stops with the keys to change instead of swapping it to death.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Memory the machine can give this process now (MemAvailable on Linux, else what the GC sees).</summary>
    public static long AvailableBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            // not Linux: fall through
        }
        catch (UnauthorizedAccessException)
        {
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    public static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB";

    /// <summary>Throws (exit 2) when <paramref name="estimate"/> exceeds <paramref name="available"/>, unless forced.</summary>
    public static void Check(ExperimentSpec spec, long estimate, long available, bool force)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (force || estimate <= available) return;
        throw new ExperimentConfigException(
            $"this run needs about {Gib(estimate)} at its peak (estimate from the spec) but the machine has {Gib(available)} available: " +
            $"lower workers.honest (now {spec.Workers.Honest}) or workers.byzantine, use a smaller model.type (now {spec.Model.Type}), " +
            "or pass --force to run it anyway");
    }
}

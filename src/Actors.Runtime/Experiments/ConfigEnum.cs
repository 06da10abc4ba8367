using System.Text;

namespace Actors.Runtime.Experiments;

/// <summary>
/// Config choices as enums: a member's config name is its name in kebab case (<c>PerWorker</c> is <c>per-worker</c>).
/// Parsed once when the spec is read; code past the parser switches on the enum, never on the string.
/// </summary>
public static class ConfigEnum
{
    /// <summary>The config name of <paramref name="value"/>, e.g. TimingMode.Sync is "sync".</summary>
    public static string Name<T>(T value) where T : struct, Enum => Kebab(value.ToString());

    /// <summary>Every config name of <typeparamref name="T"/>, in declaration order.</summary>
    public static string[] Names<T>() where T : struct, Enum => [.. Enum.GetValues<T>().Select(v => Name(v))];

    public static bool TryParse<T>(string name, out T value) where T : struct, Enum
    {
        foreach (var v in Enum.GetValues<T>())
        {
            if (Name(v) != name) continue;
            value = v;
            return true;
        }
        value = default;
        return false;
    }

    private static string Kebab(string pascal)
    {
        var b = new StringBuilder(pascal.Length + 4);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0) b.Append('-');
            b.Append(char.ToLowerInvariant(pascal[i]));
        }
        return b.ToString();
    }
}

/// <summary>`timing.mode`: when the aggregator applies updates (CONTRACTS.md "step").</summary>
public enum TimingMode
{
    /// <summary>A round waits for every live worker.</summary>
    Sync,
    /// <summary>A round closes at the first `quorum` updates or after `deadline-ms`.</summary>
    Deadline,
    /// <summary>Each update is applied on arrival.</summary>
    Async,
    /// <summary>Every `buffer-size` arrivals are applied together (FedBuff).</summary>
    Buffered,
}

/// <summary>`timing.late-updates` (deadline mode): what happens to an update for a closed round.</summary>
public enum LateUpdates
{
    Drop,
    Carry,
}

/// <summary>`timing.latency-distribution`.</summary>
public enum LatencyDistribution
{
    Constant,
    Uniform,
    Lognormal,
}

/// <summary>
/// `optimizer.async-scaling`: how far one applied update moves the model in async and buffered timing.
/// A sync round applies lr * mean(u_1..u_n); so that timing changes when updates land and not how far a unit of work
/// moves the model, <see cref="PerWorker"/> applies each update at lr / n (n = the workers a sync round averages).
/// </summary>
public enum AsyncScaling
{
    /// <summary>Each applied update moves the model by (lr / n) u; a buffer of K by lr K/n times its aggregate.</summary>
    PerWorker,
    /// <summary>Raw async SGD: each applied update (or buffer aggregate) moves the model by lr u.</summary>
    None,
}

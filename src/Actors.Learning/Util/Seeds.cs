namespace Actors.Learning.Util;

/// <summary>
/// Derives independent seeds from (experiment seed, stream name, index) so that every random choice in a run
/// is a pure function of the experiment seed. SplitMix64 finalizer over a stable string hash.
/// </summary>
public static class Seeds
{
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>A stable (process-independent) 64-bit hash of a stream name (FNV-1a).</summary>
    public static ulong Hash(string name)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in name)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }

    public static ulong Derive(long experimentSeed, string stream, long index = 0) =>
        Mix(Mix((ulong)experimentSeed ^ Hash(stream)) ^ (ulong)index);

    public static int DeriveInt(long experimentSeed, string stream, long index = 0) =>
        (int)(Derive(experimentSeed, stream, index) & 0x7FFFFFFF);

    public static Random Random(long experimentSeed, string stream, long index = 0) =>
        new(DeriveInt(experimentSeed, stream, index));
}

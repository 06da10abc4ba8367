namespace Actors.Learning.Data;

/// <summary>How the training set is split across workers (`data.partition`).</summary>
public static class Partitioner
{
    public static readonly string[] Kinds = ["iid", "shards"];

    /// <summary>
    /// Returns one index array per honest worker, then one per Byzantine worker.
    /// iid: a seeded shuffle cut into equal parts. shards: the training set sorted by label (stable) and cut into
    /// contiguous shards, one per honest worker; Byzantine workers get iid samples of the whole set (as the reference code).
    /// </summary>
    public static long[][] Split(int[] labels, string kind, int honest, int byzantine, Random rng)
    {
        if (honest <= 0) throw new ArgumentException("need at least one honest worker");
        int n = labels.Length;
        int total = honest + byzantine;
        switch (kind)
        {
            case "iid":
            {
                var perm = Permutation(n, rng);
                return Enumerable.Range(0, total).Select(w => Slice(perm, w, total)).ToArray();
            }
            case "shards":
            {
                var sorted = Enumerable.Range(0, n).OrderBy(i => labels[i]).ThenBy(i => i).Select(i => (long)i).ToArray();
                var parts = new long[total][];
                for (int w = 0; w < honest; w++) parts[w] = Slice(sorted, w, honest);
                for (int b = 0; b < byzantine; b++)
                {
                    var perm = Permutation(n, rng);
                    parts[honest + b] = perm.Take(Math.Max(1, n / total)).ToArray();
                }
                return parts;
            }
            default:
                throw new ArgumentException($"unknown partition '{kind}' (valid: {string.Join(", ", Kinds)})");
        }
    }

    private static long[] Slice(long[] all, int part, int parts)
    {
        long start = (long)all.Length * part / parts, end = (long)all.Length * (part + 1) / parts;
        return all[(int)start..(int)end];
    }

    public static long[] Permutation(int n, Random rng)
    {
        var p = new long[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}

namespace Actors.Learning.Data;

/// <summary>How the training set is split across workers (`data.partition`).</summary>
public static class Partitioner
{
    public static readonly string[] Kinds = ["iid", "shards", "dirichlet"];

    /// <summary>
    /// Returns one index array per honest worker, then one per Byzantine worker.
    /// iid: a seeded shuffle cut into equal parts. shards: the training set sorted by label (stable) and cut into
    /// contiguous shards, one per honest worker; Byzantine workers get iid samples of the whole set (as the reference code).
    /// dirichlet: for every class, proportions p ~ Dirichlet(alpha, ..., alpha) over the honest workers split that class's
    /// (shuffled) samples; small alpha = few classes per worker. An honest worker left empty takes one sample from the
    /// largest one. Byzantine workers get iid samples of the whole set, as with shards.
    /// </summary>
    /// <param name="dirichletAlpha">`data.dirichlet-alpha` (> 0), used by dirichlet only.</param>
    public static long[][] Split(int[] labels, string kind, int honest, int byzantine, Random rng, double dirichletAlpha = 0.5)
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
                ByzantineIid(parts, n, honest, byzantine, rng);
                return parts;
            }
            case "dirichlet":
            {
                if (!(dirichletAlpha > 0) || !double.IsFinite(dirichletAlpha))
                {
                    throw new ArgumentException($"data.dirichlet-alpha = {dirichletAlpha} is invalid: must be a finite number > 0");
                }
                var parts = new long[total][];
                var honestParts = Dirichlet(labels, honest, dirichletAlpha, rng);
                for (int w = 0; w < honest; w++) parts[w] = honestParts[w];
                ByzantineIid(parts, n, honest, byzantine, rng);
                return parts;
            }
            default:
                throw new ArgumentException($"unknown partition '{kind}' (valid: {string.Join(", ", Kinds)})");
        }
    }

    private static void ByzantineIid(long[][] parts, int n, int honest, int byzantine, Random rng)
    {
        int total = honest + byzantine;
        for (int b = 0; b < byzantine; b++)
        {
            var perm = Permutation(n, rng);
            parts[honest + b] = perm.Take(Math.Max(1, n / total)).ToArray();
        }
    }

    private static long[][] Dirichlet(int[] labels, int workers, double alpha, Random rng)
    {
        var lists = Enumerable.Range(0, workers).Select(_ => new List<long>()).ToArray();
        foreach (var cls in labels.Distinct().Order())
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == cls).Select(i => (long)i).ToArray();
            Shuffle(members, rng);
            var p = SampleDirichlet(workers, alpha, rng);
            double cumulative = 0;
            int start = 0;
            for (int w = 0; w < workers; w++)
            {
                cumulative += p[w];
                int end = w == workers - 1 ? members.Length : (int)Math.Min(members.Length, Math.Round(cumulative * members.Length));
                for (int k = start; k < end; k++) lists[w].Add(members[k]);
                start = Math.Max(start, end);
            }
        }
        foreach (var list in lists.Where(l => l.Count == 0))
        {
            var largest = lists.OrderByDescending(l => l.Count).First();
            if (largest.Count < 2) break;
            list.Add(largest[^1]);
            largest.RemoveAt(largest.Count - 1);
        }
        return lists.Select(l => l.Order().ToArray()).ToArray();
    }

    /// <summary>A Dirichlet(alpha, ..., alpha) sample: normalized Gamma(alpha) draws.</summary>
    public static double[] SampleDirichlet(int k, double alpha, Random rng)
    {
        var g = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++) sum += g[i] = SampleGamma(alpha, rng);
        if (sum <= 0)
        {
            // Every draw underflowed (tiny alpha): all mass on one uniformly chosen worker, the alpha -> 0 limit.
            g[rng.Next(k)] = 1;
            return g;
        }
        for (int i = 0; i < k; i++) g[i] /= sum;
        return g;
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang (2000); shape &lt; 1 via Gamma(shape + 1) * U^(1/shape).</summary>
    public static double SampleGamma(double shape, Random rng)
    {
        if (shape < 1) return SampleGamma(shape + 1, rng) * Math.Pow(1 - rng.NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = StandardNormal(rng);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = 1 - rng.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    private static double StandardNormal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static void Shuffle(long[] a, Random rng)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
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

using Actors.Learning.Conformal;

namespace Actors.Learning.Tests.Conformal;

/// <summary>Seeded exchangeable test data: Gaussian blobs, one per label.</summary>
internal static class ConformalTestData
{
    public static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static LabelledData Blobs(int n, int d, int classes, int seed, double spread = 1.5)
    {
        var rng = new Random(seed);
        var f = new double[n * d];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % classes; // balanced, so tiny bags still have every label
            for (int t = 0; t < d; t++) f[i * d + t] = Normal(rng) + (t % classes == y[i] ? spread : 0);
        }
        // Shuffle rows so the labels are not in a pattern.
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        var data = new LabelledData(f, y, d, classes);
        return data.Subset(order);
    }

    public static double[] Point(int d, int seed, double shift = 0)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, d).Select(_ => Normal(rng) + shift)];
    }

    /// <summary>The 1-D toy bag of the hand-checked cases: x = 0, 1 (label 0) and 3, 5 (label 1).</summary>
    public static LabelledData Toy() => new([0.0, 1.0, 3.0, 5.0], [0, 0, 1, 1], 1, 2);
}

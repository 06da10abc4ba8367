using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>Small helpers shared by the sparsifiers.</summary>
internal static class Sparsity
{
    /// <summary>k = ratio * d rounded down (with a tolerance so 0.29 * 100 gives 29), at least 1 and at most d.</summary>
    public static long KeepCount(double ratio, long d)
    {
        if (d == 0) return 0;
        long k = (long)Math.Floor(ratio * d + 1e-9);
        return Math.Clamp(k, 1, d);
    }

    public static void CheckFlat(torch.Tensor x, string codec)
    {
        if (x.dim() != 1)
            throw new ArgumentException($"{codec} compresses flat 1-D vectors; got shape [{string.Join(", ", x.shape)}]");
        if (x.dtype != torch.ScalarType.Float32 && x.dtype != torch.ScalarType.Float64)
            throw new ArgumentException($"{codec} compresses float32 or float64 vectors; got {x.dtype}");
    }
}

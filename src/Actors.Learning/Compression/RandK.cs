using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>How rand-k scales the kept values.</summary>
public enum RandKScaling
{
    /// <summary>Values times d/k, so E[D(C(x))] = x (what LEAD and DIANA-style methods need).</summary>
    Unbiased,

    /// <summary>Values as they are, so ||D(C(x)) - x||^2 &lt;= (1 - k/d) ||x||^2 in expectation (what CHOCO needs).</summary>
    Contractive,
}

/// <summary>
/// `randk`: keeps k = ratio * d coordinates chosen uniformly without replacement. The choice is a pure function of
/// (shared seed, step), identical on every worker, so only the values and the seed travel, and messages made at the
/// same step sum coordinate-wise (linear).
/// </summary>
public sealed class RandK(double ratio, RandKScaling scaling = RandKScaling.Unbiased) : ICompressor
{
    public const string CodecName = "randk";

    public double Ratio { get; } = ratio > 0 && ratio <= 1
        ? ratio
        : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "ratio must be in (0, 1]");

    public RandKScaling Scaling { get; } = scaling;

    public string Name => CodecName;
    public bool IsLinear => true;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(context);
        Sparsity.CheckFlat(x, CodecName);
        using var scope = torch.NewDisposeScope();
        long d = x.shape[0];
        long k = Sparsity.KeepCount(Ratio, d);
        long seed = context.StepSeed(CodecName);
        var values = x.detach().index_select(0, Indices(seed, d, k));
        if (Scaling == RandKScaling.Unbiased && k > 0) values = values.MulBy((double)d / k);
        values = values.contiguous().MoveToOuterDisposeScope();
        return new CompressedTensor(CodecName, x.shape, [values], seed: seed, dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Compressors.Decompress(compressed);

    public static torch.Tensor Reconstruct(CompressedTensor c)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = torch.NewDisposeScope();
        long d = c.Numel;
        var values = c.Parts[0].to(c.DType);
        var dense = torch.zeros(d, dtype: c.DType);
        dense.index_copy_(0, Indices(c.Seed, d, values.shape[0]), values);
        return dense.reshape(c.Shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The k indices chosen at this seed, ascending: Floyd's sampling without replacement driven by a SplitMix64
    /// stream, so the choice is O(k) draws, a pure function of (seed, d, k), and independent of the libtorch version.
    /// </summary>
    public static torch.Tensor Indices(long seed, long d, long k)
    {
        if (k < 0 || k > d || d > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"need 0 <= k <= d <= {int.MaxValue} (d = {d})");
        var chosen = new byte[d];
        ulong s = unchecked((ulong)seed);
        for (long j = d - k; j < d; j++)
        {
            ulong draw = Seeds.Mix(unchecked(s + (ulong)j * 0xD1B54A32D192ED03UL));
            long t = (long)(draw % (ulong)(j + 1));
            chosen[chosen[t] == 0 ? t : j] = 1;
        }
        var indices = new long[k];
        var span = chosen.AsSpan();
        int found = 0, offset = 0;
        while (found < k)
        {
            int next = span[offset..].IndexOf((byte)1);
            indices[found++] = offset + next;
            offset += next + 1;
        }
        return torch.tensor(indices);
    }
}

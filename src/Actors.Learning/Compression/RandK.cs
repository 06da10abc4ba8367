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
        long seed = StepSeed(context);
        var values = x.detach().index_select(0, Indices(seed, d, k));
        if (Scaling == RandKScaling.Unbiased && k > 0) values = values * ((double)d / k);
        values = values.contiguous().MoveToOuterDisposeScope();
        return new CompressedTensor(CodecName, x.shape, [values], seed: seed, dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Reconstruct(compressed);

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

    /// <summary>The per-step seed every worker derives identically.</summary>
    public static long StepSeed(CompressionContext context) =>
        (long)Seeds.Derive(unchecked((long)context.SharedSeed), CodecName, context.Step);

    /// <summary>The k indices chosen at this seed: the first k of a seeded random permutation of 0..d-1.</summary>
    public static torch.Tensor Indices(long seed, long d, long k)
    {
        using var generator = new torch.Generator(unchecked((ulong)seed));
        using var perm = torch.randperm(d, generator: generator);
        return perm.narrow(0, 0, k).clone();
    }
}

using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// `topk`: keeps the k = ratio * d entries of largest magnitude and sends their values and indices
/// (int32 indices when d fits, int64 otherwise). Contractive, biased, not linear (indices differ per sender).
/// </summary>
public sealed class TopK(double ratio) : ICompressor
{
    public const string CodecName = "topk";

    public double Ratio { get; } = ratio > 0 && ratio <= 1
        ? ratio
        : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "ratio must be in (0, 1]");

    public string Name => CodecName;
    public bool IsLinear => false;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        Sparsity.CheckFlat(x, CodecName);
        using var scope = torch.NewDisposeScope();
        long d = x.shape[0];
        long k = Sparsity.KeepCount(Ratio, d);
        var (_, idx) = x.detach().abs().topk((int)k, dim: 0, largest: true, sorted: false);
        var values = x.detach().index_select(0, idx);
        var indices = d <= int.MaxValue ? idx.to(torch.ScalarType.Int32) : idx;
        values.MoveToOuterDisposeScope();
        indices.MoveToOuterDisposeScope();
        return new CompressedTensor(CodecName, x.shape, [values, indices], dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Compressors.Decompress(compressed);

    public static torch.Tensor Reconstruct(CompressedTensor c)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = torch.NewDisposeScope();
        var dense = torch.zeros(c.Numel, dtype: c.DType);
        dense.index_copy_(0, c.Parts[1].to(torch.ScalarType.Int64), c.Parts[0].to(c.DType));
        return dense.reshape(c.Shape).MoveToOuterDisposeScope();
    }
}

using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>`none`: sends the vector as it is (the uncompressed baseline).</summary>
public sealed class Identity : ICompressor
{
    public const string CodecName = "none";

    public string Name => CodecName;
    public bool IsLinear => true;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        Sparsity.CheckFlat(x, CodecName);
        return new CompressedTensor(CodecName, x.shape, [x.detach().clone()], dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Compressors.Decompress(compressed);

    public static torch.Tensor Reconstruct(CompressedTensor c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return c.Parts[0].reshape(c.Shape).to(c.DType).clone();
    }
}

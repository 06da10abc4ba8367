using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// `sign` with norm scaling (Karimireddy et al. 2019, EF-SignSGD): C(x) = (||x||_1 / d) * sign(x). Sends one bit per
/// coordinate (packed, most significant bit first) and the scale. A zero coordinate is sent as +scale: one bit
/// cannot say zero. Not linear.
/// </summary>
public sealed class ScaledSign : ICompressor
{
    public const string CodecName = "sign";

    public string Name => CodecName;
    public bool IsLinear => false;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        Sparsity.CheckFlat(x, CodecName);
        using var scope = torch.NewDisposeScope();
        long d = x.shape[0];
        var v = x.detach();
        double scale = d == 0 ? 0 : v.abs().sum(type: torch.ScalarType.Float64).item<double>() / d;
        if (!double.IsFinite(scale))
            throw new NonFiniteInputException($"{CodecName}: cannot compress a vector with non-finite entries");
        long bytes = (d + 7) / 8;
        var bits = v.ge(ScalarOps.Zero).to(torch.ScalarType.Byte);
        if (bytes * 8 != d) bits = torch.cat([bits, torch.zeros(bytes * 8 - d, dtype: torch.ScalarType.Byte)], 0);
        var packed = (bits.view(bytes, 8) * BitWeights()).sum(1, type: torch.ScalarType.Byte).contiguous();
        packed.MoveToOuterDisposeScope();
        return new CompressedTensor(CodecName, x.shape, [packed], [scale], dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Compressors.Decompress(compressed);

    public static torch.Tensor Reconstruct(CompressedTensor c)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = torch.NewDisposeScope();
        long d = c.Numel;
        double scale = c.Scalars[0];
        var bits = c.Parts[0].unsqueeze(1).bitwise_and(BitWeights()).ne(ScalarOps.Zero).view(-1).narrow(0, 0, d);
        var plus = torch.full(d, scale, dtype: c.DType);
        return torch.where(bits, plus, plus.neg()).reshape(c.Shape).MoveToOuterDisposeScope();
    }

    private static torch.Tensor BitWeights() =>
        torch.tensor(new byte[] { 128, 64, 32, 16, 8, 4, 2, 1 });
}

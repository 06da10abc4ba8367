using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// `qsgd` (Alistarh et al. 2017, eq. 1): Q(x)_i = ||x||_2 * sign(x_i) * xi_i / s, where xi_i is |x_i| s / ||x||_2
/// rounded stochastically to one of its two neighbouring integers so that E[Q(x)] = x. Sends the norm, s and one
/// signed level per coordinate (int8 for s &lt;= 127, int16 above). The rounding uses this instance's own seeded
/// generator (independent across workers), so it is not linear.
/// </summary>
public sealed class Qsgd : ICompressor, IDisposable
{
    public const string CodecName = "qsgd";
    public const int MaxLevels = short.MaxValue;

    private readonly torch.Generator _generator;

    public Qsgd(int levels, long seed)
    {
        if (levels < 1 || levels > MaxLevels)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, $"levels must be in [1, {MaxLevels}]");
        Levels = levels;
        _generator = Util.TorchSetup.Generator(unchecked((ulong)seed));
    }

    public int Levels { get; }
    public string Name => CodecName;
    public bool IsLinear => false;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        Sparsity.CheckFlat(x, CodecName);
        using var scope = torch.NewDisposeScope();
        // Computed in x's own dtype (no float64 copy of a large vector); the clamp below absorbs rounding at |x_i| = ||x||.
        var v = x.detach();
        double norm = v.norm().to(torch.ScalarType.Float64).item<double>();
        var levelType = Levels <= sbyte.MaxValue ? torch.ScalarType.Int8 : torch.ScalarType.Int16;
        torch.Tensor q;
        if (norm == 0 || !double.IsFinite(norm))
        {
            if (!double.IsFinite(norm))
                throw new NonFiniteInputException($"{CodecName}: cannot quantize a vector with non-finite entries");
            q = torch.zeros(v.shape[0], dtype: levelType);
        }
        else
        {
            var r = v.abs().MulBy(Levels / norm);
            var lower = r.floor();
            var u = torch.rand(v.shape, generator: _generator, dtype: v.dtype);
            var level = lower.add_((u < (r - lower)).to(v.dtype)).ClampMax_(Levels);
            q = (level * v.sign()).to(levelType);
        }
        q.MoveToOuterDisposeScope();
        return new CompressedTensor(CodecName, x.shape, [q], [norm, Levels], dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Compressors.Decompress(compressed);

    public static torch.Tensor Reconstruct(CompressedTensor c)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = torch.NewDisposeScope();
        double scale = c.Scalars[0] / c.Scalars[1];
        return c.Parts[0].to(c.DType).mul_(scale).reshape(c.Shape).MoveToOuterDisposeScope();
    }

    public void Dispose() => _generator.Dispose();
}

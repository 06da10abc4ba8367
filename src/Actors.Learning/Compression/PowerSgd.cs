using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// `powersgd` (Vogels et al. 2019, Algorithm 1): every parameter tensor with two or more dimensions is seen as a
/// matrix M (conv weights reshaped to [out, rest]) and approximated with rank r by one power-iteration step:
/// P = M Q, P = orthogonalize(P), Q = M^T P, decompressed as P Q^T. Q is warm-started across steps (kept per tensor)
/// and first drawn from the shared seed, so it starts identical on all workers. Biases and other 1-D tensors are sent
/// raw. Parts on the wire, in layout order: [P_i, Q_i] for a matrix, [values] for a raw tensor. Not linear. Use it
/// with <see cref="ErrorFeedback"/> as the paper does.
/// </summary>
public sealed class PowerSgd : ICompressor, IDisposable
{
    public const string CodecName = "powersgd";

    private readonly Dictionary<int, torch.Tensor> _q = [];

    public PowerSgd(int rank)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, "rank must be >= 1");
        Rank = rank;
    }

    public int Rank { get; }
    public string Name => CodecName;
    public bool IsLinear => false;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(context);
        Sparsity.CheckFlat(x, CodecName);
        var layout = context.Layout
            ?? throw new ArgumentException($"{CodecName} compresses 2-D weight matrices and needs CompressionContext.Layout");
        long d = x.shape[0];
        if (layout.Size != d)
            throw new ArgumentException($"{CodecName}: the layout describes {layout.Size} values but the vector has {d}");
        var parts = new List<torch.Tensor>();
        using var scope = torch.NewDisposeScope();
        var flat = x.detach();
        for (int i = 0; i < layout.Entries.Count; i++)
        {
            var (_, shape, offset, count) = layout.Entries[i];
            var slice = flat.narrow(0, offset, count);
            if (shape.Length < 2 || count == 0)
            {
                parts.Add(slice.clone().MoveToOuterDisposeScope());
                continue;
            }
            long n = shape[0], m = count / n;
            var matrix = slice.view(n, m);
            var q = WarmQ(i, m, (int)Math.Min(Rank, Math.Min(n, m)), x.dtype, context.SharedSeed);
            var (p, _) = torch.linalg.qr(matrix.mm(q));
            var qNext = matrix.t().mm(p);
            q.copy_(qNext);
            parts.Add(p.contiguous().MoveToOuterDisposeScope());
            parts.Add(qNext.contiguous().MoveToOuterDisposeScope());
        }
        return new CompressedTensor(CodecName, x.shape, parts, dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Compressors.Decompress(compressed);

    public static torch.Tensor Reconstruct(CompressedTensor c)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = torch.NewDisposeScope();
        var pieces = new List<torch.Tensor>();
        for (int i = 0; i < c.Parts.Count; i++)
        {
            var part = c.Parts[i];
            if (part.dim() == 1)
            {
                pieces.Add(part.to(c.DType));
            }
            else
            {
                pieces.Add(part.to(c.DType).mm(c.Parts[i + 1].to(c.DType).t()).reshape(-1));
                i++;
            }
        }
        var dense = pieces.Count == 0 ? torch.empty(0, dtype: c.DType) : torch.cat(pieces, 0);
        return dense.reshape(c.Shape).MoveToOuterDisposeScope();
    }

    /// <summary>Dense Q [m, r] for tensor i, created from the shared seed on first use and kept across steps.</summary>
    private torch.Tensor WarmQ(int index, long m, int rank, torch.ScalarType dtype, ulong sharedSeed)
    {
        if (_q.TryGetValue(index, out var q) && q.shape[0] == m && q.shape[1] == rank && q.dtype == dtype) return q;
        q?.Dispose();
        using var generator = Util.TorchSetup.Generator(Seeds.Derive(unchecked((long)sharedSeed), "powersgd-q", index));
        using var fresh = torch.randn([m, rank], generator: generator, dtype: torch.ScalarType.Float64);
        var created = fresh.to(dtype).detach().clone().DetachFromDisposeScope();
        _q[index] = created;
        return created;
    }

    public void Dispose()
    {
        foreach (var q in _q.Values) q.Dispose();
        _q.Clear();
    }
}

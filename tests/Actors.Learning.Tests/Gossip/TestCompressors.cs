using Actors.Learning.Compression;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Tests.Gossip;

// Test doubles of the real compressors (written on another branch against the same ICompressor seam), so the gossip
// algorithms can be tested on their own. Small and obviously right rather than fast.

/// <summary>Test double of rand-k: k of d coordinates chosen from a seed carried in the message (no indices sent); unbiased scales by d/k, contractive does not.</summary>
internal sealed class TestRandK(double ratio, bool unbiased) : ICompressor
{
    public string Name => "randk";
    public bool IsLinear => true;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        long d = x.numel();
        long k = Math.Max(1, (long)Math.Round(ratio * d));
        long seed = (long)(Seeds.Derive((long)context.SharedSeed, "test-randk", context.Step) & 0x7FFFFFFFFFFFFFFF);
        using var idx = Indices(d, k, seed);
        var values = x.reshape(-1).index_select(0, idx);
        return new CompressedTensor(Name, x.shape, [values], [unbiased ? (double)d / k : 1.0], seed);
    }

    public torch.Tensor Decompress(CompressedTensor c)
    {
        long d = c.Numel;
        var values = c.Parts[0];
        using var idx = Indices(d, values.numel(), c.Seed);
        var dense = torch.zeros(d, values.dtype);
        dense.index_copy_(0, idx, values.mul(c.Scalars[0]));
        return dense.reshape(c.Shape);
    }

    private static torch.Tensor Indices(long d, long k, long seed)
    {
        using var gen = new torch.Generator((ulong)seed);
        using var perm = torch.randperm(d, generator: gen);
        return perm.narrow(0, 0, k).sort().Values;
    }
}

/// <summary>Test double of top-k: the k largest magnitudes, values and indices sent (contractive).</summary>
internal sealed class TestTopK(double ratio) : ICompressor
{
    public string Name => "topk";
    public bool IsLinear => false;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        long k = Math.Max(1, (long)Math.Round(ratio * x.numel()));
        var flat = x.reshape(-1);
        var (_, idx) = flat.abs().topk((int)k);
        return new CompressedTensor(Name, x.shape, [flat.index_select(0, idx), idx]);
    }

    public torch.Tensor Decompress(CompressedTensor c)
    {
        var dense = torch.zeros(c.Numel, c.Parts[0].dtype);
        dense.index_copy_(0, c.Parts[1], c.Parts[0]);
        return dense.reshape(c.Shape);
    }
}

/// <summary>Test double of QSGD with s levels: ||x|| sign(x_i) xi_i / s, xi_i stochastic rounding of s |x_i| / ||x|| (unbiased); one signed byte per value.</summary>
internal sealed class TestQsgd(int levels) : ICompressor
{
    public string Name => "qsgd";
    public bool IsLinear => false;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        using var scope = torch.NewDisposeScope();
        var flat = x.reshape(-1).to_type(torch.float64);
        double norm = flat.norm().item<double>();
        using var gen = new torch.Generator(Seeds.Derive((long)context.SharedSeed, "test-qsgd", context.Step));
        torch.Tensor q;
        if (norm == 0) q = torch.zeros(flat.numel(), torch.int8);
        else
        {
            var scaled = flat.abs().div(norm).mul(levels);
            var lower = scaled.floor();
            var up = torch.rand(flat.numel(), torch.float64, generator: gen).lt(scaled.sub(lower));
            q = lower.add(up.to_type(torch.float64)).mul(flat.sign()).to_type(torch.int8);
        }
        var part = q.MoveToOuterDisposeScope();
        return new CompressedTensor(Name, x.shape, [part], [norm, (double)(int)x.dtype]);
    }

    public torch.Tensor Decompress(CompressedTensor c)
    {
        var dtype = (torch.ScalarType)(int)c.Scalars[1];
        return c.Parts[0].to_type(torch.float64).mul(c.Scalars[0] / levels).to_type(dtype).reshape(c.Shape);
    }
}

/// <summary>Identity (no compression).</summary>
internal sealed class TestIdentity : ICompressor
{
    public string Name => "none";
    public bool IsLinear => true;
    public CompressedTensor Compress(torch.Tensor x, CompressionContext context) => new(Name, x.shape, [x.clone()]);
    public torch.Tensor Decompress(CompressedTensor c) => c.Parts[0].clone();
}

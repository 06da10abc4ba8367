using Actors.Learning.Compression;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Tests.Compression;

public class PowerSgdSpec
{
    private static readonly ParameterLayout Layout = new([("w", [5, 4], 0, 20), ("b", [3], 20, 3), ("conv", [2, 2, 3], 23, 12)]);

    private static torch.Tensor Vector(ulong seed)
    {
        using var g = new torch.Generator(seed);
        return torch.randn(35, generator: g, dtype: torch.ScalarType.Float64);
    }

    [Fact]
    public void PowerSgd_is_exact_at_full_rank()
    {
        using var x = Vector(1);
        using var powerSgd = new PowerSgd(rank: 4);
        using var c = powerSgd.Compress(x, new CompressionContext(0, 3, Layout));
        using var y = powerSgd.Decompress(c);
        Assert.True(y.allclose(x, rtol: 1e-9, atol: 1e-9));
    }

    [Fact]
    public void PowerSgd_sends_factors_for_matrices_and_biases_raw()
    {
        using var x = Vector(2);
        using var powerSgd = new PowerSgd(rank: 1);
        using var c = powerSgd.Compress(x, new CompressionContext(0, 3, Layout));
        var shapes = c.Parts.Select(p => string.Join("x", p.shape)).ToArray();
        // w [5,4] -> P [5,1], Q [4,1]; b raw [3]; conv [2,2,3] seen as [2,6] -> P [2,1], Q [6,1].
        Assert.Equal(new[] { "5x1", "4x1", "3", "2x1", "6x1" }, shapes);
        using var y = powerSgd.Decompress(c);
        Assert.True(y.narrow(0, 20, 3).allclose(x.narrow(0, 20, 3)));
        using var p = c.Parts[0];
        Assert.True(p.t().mm(p).allclose(torch.eye(1, dtype: torch.ScalarType.Float64), atol: 1e-12), "P is orthonormal");
    }

    [Fact]
    public void PowerSgd_recovers_a_rank_one_matrix_exactly_at_rank_one()
    {
        using var u = torch.tensor(new[] { 1.0, -2, 0.5, 3, 1 });
        using var v = torch.tensor(new[] { 2.0, 0, -1, 4 });
        using var m = u.outer(v).reshape(-1);
        var layout = new ParameterLayout([("w", [5, 4], 0, 20)]);
        using var powerSgd = new PowerSgd(1);
        using var c = powerSgd.Compress(m, new CompressionContext(0, 3, layout));
        using var y = powerSgd.Decompress(c);
        Assert.True(y.allclose(m, rtol: 1e-9, atol: 1e-9));
    }

    [Fact]
    public void PowerSgd_warm_starts_Q_from_the_previous_step()
    {
        using var x = Vector(3);
        var layout = new ParameterLayout([("w", [5, 4], 0, 20)]);
        using var first = new PowerSgd(1);
        using var c1 = first.Compress(x.narrow(0, 0, 20), new CompressionContext(0, 3, layout));
        using var c2 = first.Compress(x.narrow(0, 0, 20), new CompressionContext(1, 3, layout));
        // One more power step from Q1: P2 = orth(M Q1), Q2 = M^T P2.
        using var mat = x.narrow(0, 0, 20).view(5, 4);
        var (p2, _) = torch.linalg.qr(mat.mm(c1.Parts[1]));
        using var q2 = mat.t().mm(p2);
        Assert.True(c2.Parts[1].allclose(q2, rtol: 1e-9, atol: 1e-9));
        // Same shared seed, fresh instance: identical first Q on every worker.
        using var other = new PowerSgd(1);
        using var c1b = other.Compress(x.narrow(0, 0, 20), new CompressionContext(0, 3, layout));
        Assert.True(c1b.Parts[1].allclose(c1.Parts[1]));
        p2.Dispose();
    }

    [Fact]
    public void PowerSgd_needs_a_layout()
    {
        using var x = Vector(4);
        using var powerSgd = new PowerSgd(1);
        var e = Assert.Throws<ArgumentException>(() => powerSgd.Compress(x, new CompressionContext(0, 3)));
        Assert.Contains("Layout", e.Message, StringComparison.Ordinal);
    }
}

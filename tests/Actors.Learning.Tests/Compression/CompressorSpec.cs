using Actors.Learning.Compression;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Tests.Compression;

public class CompressorSpec
{
    private static readonly CompressionContext Ctx = new(Step: 5, SharedSeed: 42);

    private static float[] Values(torch.Tensor t) => t.to(torch.ScalarType.Float32).data<float>().ToArray();

    private static torch.Tensor RoundTrip(ICompressor compressor, torch.Tensor x, CompressionContext? ctx = null)
    {
        using var c = compressor.Compress(x, ctx ?? Ctx);
        return compressor.Decompress(c);
    }

    [Fact]
    public void None_sends_the_vector_unchanged()
    {
        using var x = torch.tensor(new[] { 1f, -2f, 3.5f });
        using var y = RoundTrip(new Identity(), x);
        Assert.Equal(new[] { 1f, -2f, 3.5f }, Values(y));
    }

    [Fact]
    public void TopK_keeps_the_largest_magnitudes_with_their_indices()
    {
        using var x = torch.tensor(new[] { 0.1f, -3f, 2f, 0.5f, -1f });
        var topk = new TopK(0.4);
        using var c = topk.Compress(x, Ctx);
        Assert.Equal(torch.ScalarType.Int32, c.Parts[1].dtype);
        Assert.Equal(2, c.Parts[0].numel());
        using var y = topk.Decompress(c);
        Assert.Equal(new[] { 0f, -3f, 2f, 0f, 0f }, Values(y));
    }

    [Fact]
    public void RandK_keeps_k_shared_coordinates_scaled_by_d_over_k_when_unbiased()
    {
        using var x = torch.arange(1, 11, dtype: torch.ScalarType.Float32);
        using var idx = RandK.Indices(Ctx.StepSeed(RandK.CodecName), 10, 3);
        var kept = idx.data<long>().ToArray();
        Assert.Equal(3, kept.Distinct().Count());

        using var unbiased = RoundTrip(new RandK(0.3, RandKScaling.Unbiased), x);
        using var contractive = RoundTrip(new RandK(0.3, RandKScaling.Contractive), x);
        var u = Values(unbiased);
        var c = Values(contractive);
        for (int i = 0; i < 10; i++)
        {
            bool k = kept.Contains(i);
            Assert.Equal(k ? (i + 1) * 10f / 3f : 0f, u[i], 4);
            Assert.Equal(k ? i + 1f : 0f, c[i]);
        }
    }

    [Fact]
    public void RandK_choice_depends_on_step_and_shared_seed_only()
    {
        using var x = torch.arange(1, 101, dtype: torch.ScalarType.Float32);
        using var a = new RandK(0.1).Compress(x, Ctx);
        using var b = new RandK(0.1).Compress(x, Ctx with { });
        using var other = new RandK(0.1).Compress(x, Ctx with { Step = 6 });
        Assert.Equal(a.Seed, b.Seed);
        Assert.Equal(Values(a.Parts[0]), Values(b.Parts[0]));
        Assert.NotEqual(Values(a.Parts[0]), Values(other.Parts[0]));
    }

    [Fact]
    public void RandomBlock_sends_one_contiguous_block_that_wraps_around()
    {
        using var x = torch.arange(0, 10, dtype: torch.ScalarType.Float32);
        var rb = new RandomBlockSparsifier(0.3);
        // Find a step whose block wraps (start in 8..9), so the wrap is what is checked.
        var step = Enumerable.Range(0, 200).Select(s => (long)s).First(s =>
        {
            using var c = rb.Compress(x, Ctx with { Step = s });
            return RandomBlockSparsifier.Start(c.Seed, 0, 10) >= 8;
        });
        using var compressed = rb.Compress(x, Ctx with { Step = step });
        long start = RandomBlockSparsifier.Start(compressed.Seed, 0, 10);
        var expectedValues = Enumerable.Range(0, 3).Select(j => (float)((start + j) % 10)).ToArray();
        Assert.Equal(expectedValues, Values(compressed.Parts[0]));
        using var y = rb.Decompress(compressed);
        var dense = Values(y);
        for (int i = 0; i < 10; i++)
            Assert.Equal(expectedValues.Contains(i) ? i : 0f, dense[i]);
    }

    [Fact]
    public void RandomBlock_takes_one_block_per_parameter_tensor()
    {
        var layout = new ParameterLayout([("w", [2, 5], 0, 10), ("b", [10], 10, 10)]);
        using var x = torch.arange(0, 20, dtype: torch.ScalarType.Float32);
        var rb = new RandomBlockSparsifier(0.2);
        using var c = rb.Compress(x, Ctx with { Layout = layout });
        Assert.Equal(new long[] { 10, 2, 10, 2 }, c.Parts[1].data<long>().ToArray());
        using var y = rb.Decompress(c);
        var dense = Values(y);
        long s0 = RandomBlockSparsifier.Start(c.Seed, 0, 10), s1 = RandomBlockSparsifier.Start(c.Seed, 1, 10);
        var kept = new[] { s0, (s0 + 1) % 10, 10 + s1, 10 + (s1 + 1) % 10 };
        for (int i = 0; i < 20; i++)
            Assert.Equal(kept.Contains(i) ? i : 0f, dense[i]);
    }

    [Theory]
    [InlineData(new long[] { 256, 784 }, 200704, 2080)] // the mlp's first weight: 2 (256 + 784)
    [InlineData(new long[] { 10, 256 }, 2560, 532)]
    [InlineData(new long[] { 256 }, 256, 256)] // a bias: 2 (256 + 1) > 256, so all of it
    [InlineData(new long[] { 32, 1, 3, 3 }, 288, 82)] // a conv kernel seen as 32 x 9: 2 (32 + 9)
    public void RandomBlock_rank_matched_sizes_follow_the_reference_rule(long[] shape, long d, long expected)
    {
        Assert.Equal(expected, RandomBlockSparsifier.RankMatchedCount(2, shape, d));
    }

    [Fact]
    public void RandomBlock_rank_matched_sends_r_rows_plus_cols_per_matrix_and_whole_vectors()
    {
        var layout = new ParameterLayout([("w", [2, 5], 0, 10), ("b", [10], 10, 10)]);
        using var x = torch.arange(0, 20, dtype: torch.ScalarType.Float32);
        var rb = RandomBlockSparsifier.RankMatched(1); // w: 1 (2 + 5) = 7 values; b: min(1 (10 + 1), 10) = 10
        using var c = rb.Compress(x, Ctx with { Layout = layout });
        Assert.Equal(new long[] { 10, 7, 10, 10 }, c.Parts[1].data<long>().ToArray());
        using var y = rb.Decompress(c);
        var dense = Values(y);
        long s0 = RandomBlockSparsifier.Start(c.Seed, 0, 10);
        var kept = Enumerable.Range(0, 7).Select(j => (s0 + j) % 10).ToHashSet();
        for (int i = 0; i < 10; i++) Assert.Equal(kept.Contains(i) ? i : 0f, dense[i]);
        for (int i = 10; i < 20; i++) Assert.Equal(i, dense[i]);
        Assert.Throws<ArgumentException>(() => rb.Compress(x, Ctx)); // no layout, no shapes
    }

    [Fact]
    public void Qsgd_is_exact_when_every_coordinate_sits_on_a_level()
    {
        // ||x|| = 5 and s = 5: |x_i| s / ||x|| = 3, 4, 0 are integers, so rounding has no choice.
        using var x = torch.tensor(new[] { 3.0, -4.0, 0.0 });
        using var qsgd = new Qsgd(5, seed: 1);
        using var c = qsgd.Compress(x, Ctx);
        Assert.Equal(torch.ScalarType.Int8, c.Parts[0].dtype);
        Assert.Equal(new sbyte[] { 3, -4, 0 }, c.Parts[0].data<sbyte>().ToArray());
        Assert.Equal(new[] { 5.0, 5.0 }, c.Scalars);
        using var y = qsgd.Decompress(c);
        Assert.Equal(torch.ScalarType.Float64, y.dtype);
        Assert.Equal(new[] { 3.0, -4.0, 0.0 }, y.data<double>().ToArray());
    }

    [Fact]
    public void Qsgd_rounds_to_one_of_the_two_neighbouring_levels()
    {
        // s = 1: |x_i| / ||x|| = 0.6, 0.8, so each coordinate becomes 0 or +-||x||.
        using var x = torch.tensor(new[] { 3f, -4f });
        using var qsgd = new Qsgd(1, seed: 2);
        for (int i = 0; i < 20; i++)
        {
            using var y = RoundTrip(qsgd, x);
            var v = Values(y);
            Assert.Contains(v[0], new[] { 0f, 5f });
            Assert.Contains(v[1], new[] { 0f, -5f });
        }
    }

    [Fact]
    public void Qsgd_uses_int16_levels_above_127()
    {
        using var x = torch.tensor(new[] { 1f, 2f });
        using var qsgd = new Qsgd(1000, seed: 3);
        using var c = qsgd.Compress(x, Ctx);
        Assert.Equal(torch.ScalarType.Int16, c.Parts[0].dtype);
    }

    [Fact]
    public void Sign_scales_signs_by_the_mean_absolute_value_and_packs_one_bit_each()
    {
        using var x = torch.tensor(new[] { 1f, -2f, 3f, 0f, -0.5f });
        var sign = new ScaledSign();
        using var c = sign.Compress(x, Ctx);
        // ||x||_1 / d = 6.5 / 5 = 1.3; bits 1,0,1,1,0 (zero counts as +), padded: 0b10110000.
        Assert.Equal(1.3, c.Scalars[0], 6);
        Assert.Equal(new byte[] { 0b1011_0000 }, c.Parts[0].data<byte>().ToArray());
        using var y = sign.Decompress(c);
        var v = Values(y);
        float[] expected = [1.3f, -1.3f, 1.3f, 1.3f, -1.3f];
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], v[i], 5);
    }

    [Fact]
    public void Linear_flags_match_the_rules()
    {
        Assert.True(new Identity().IsLinear);
        Assert.True(new RandK(0.1).IsLinear);
        Assert.True(new RandomBlockSparsifier(0.1).IsLinear);
        Assert.False(new TopK(0.1).IsLinear);
        using var q = new Qsgd(4, 1);
        Assert.False(q.IsLinear);
        Assert.False(new ScaledSign().IsLinear);
        using var p = new PowerSgd(1);
        Assert.False(p.IsLinear);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("randk")]
    [InlineData("random-block")]
    public void Linear_compressors_sum_without_decompressing(string type)
    {
        var layout = new ParameterLayout([("w", [3, 4], 0, 12), ("b", [8], 12, 8)]);
        var ctx = Ctx with { Layout = layout };
        using var g = new torch.Generator(9);
        using var a = torch.randn(20, generator: g);
        using var b = torch.randn(20, generator: g);
        var compressor = Compressors.Create(type, new Dictionary<string, string> { ["ratio"] = "0.25" });
        using var ca = compressor.Compress(a, ctx);
        using var cb = compressor.Compress(b, ctx);
        using var summed = LinearSum.Sum([ca, cb]);
        using var da = compressor.Decompress(ca);
        using var db = compressor.Decompress(cb);
        using var sumOfDecompressed = da + db;
        using var decompressedSum = compressor.Decompress(summed);
        Assert.True(sumOfDecompressed.allclose(decompressedSum, rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void LinearSum_refuses_messages_of_different_steps_and_nonlinear_codecs()
    {
        using var x = torch.arange(10, dtype: torch.ScalarType.Float32);
        using var a = new RandK(0.3).Compress(x, Ctx);
        using var b = new RandK(0.3).Compress(x, Ctx with { Step = 99 });
        Assert.Throws<ArgumentException>(() => LinearSum.Sum([a, b]));
        using var t = new TopK(0.3).Compress(x, Ctx);
        Assert.Throws<ArgumentException>(() => LinearSum.Sum([t, t]));
    }

    public static TheoryData<string> AllCodecs() => [.. Compressors.Names];

    [Theory]
    [MemberData(nameof(AllCodecs))]
    public void Compressed_message_does_not_alias_the_input(string type)
    {
        var layout = new ParameterLayout([("w", [4, 4], 0, 16), ("b", [4], 16, 4)]);
        using var g = new torch.Generator(5);
        using var x = torch.randn(20, generator: g);
        var compressor = Compressors.Create(type, new Dictionary<string, string> { ["ratio"] = "1" }, seed: 2);
        using var c = compressor.Compress(x, Ctx with { Layout = layout });
        using var before = compressor.Decompress(c);
        x.mul_(-3).add_(1);
        using var after = compressor.Decompress(c);
        Assert.True(before.equal(after).all().item<bool>());
        (compressor as IDisposable)?.Dispose();
    }
}

using Actors.Learning.Compression;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Tests.Compression;

public class ErrorFeedbackSpec
{
    [Fact]
    public void ErrorFeedback_memory_equals_what_was_not_sent()
    {
        using var ef = new ErrorFeedback(new TopK(0.25));
        using var g1 = torch.tensor(new[] { 4f, -1f, 0.5f, 2f, 0f, -3f, 1f, 0.25f });
        using var c1 = ef.Compress(g1, new CompressionContext(0, 1));
        // Top-2 of g1 are 4 and -3: the memory keeps everything else.
        Assert.Equal(new[] { 0f, -1f, 0.5f, 2f, 0f, 0f, 1f, 0.25f }, ef.Memory!.data<float>().ToArray());

        using var g2 = torch.tensor(new[] { 0f, 0f, 0f, 1f, 0f, 0f, 1f, 0f });
        using var c2 = ef.Compress(g2, new CompressionContext(1, 1));
        // e = old e + g2 = [0,-1,0.5,3,0,0,2,0.25]; sends 3 and 2.
        Assert.Equal(new[] { 0f, -1f, 0.5f, 0f, 0f, 0f, 0f, 0.25f }, ef.Memory!.data<float>().ToArray());
    }

    [Theory]
    [InlineData("topk")]
    [InlineData("randk")]
    [InlineData("random-block")]
    [InlineData("qsgd")]
    [InlineData("sign")]
    public void ErrorFeedback_sent_plus_memory_equals_sum_of_inputs(string type)
    {
        var compressor = Compressors.Create(type, new Dictionary<string, string> { ["ratio"] = "0.1", ["error-feedback"] = "on", ["scaling"] = "contractive" }, seed: 3);
        Assert.IsType<ErrorFeedback>(compressor);
        Assert.Equal(type, compressor.Name);
        using var g = new torch.Generator(17);
        using var inputs = torch.zeros(50, dtype: torch.ScalarType.Float64);
        using var sent = torch.zeros(50, dtype: torch.ScalarType.Float64);
        for (int t = 0; t < 10; t++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.randn(50, generator: g, dtype: torch.ScalarType.Float64);
            inputs.add_(x);
            using var c = compressor.Compress(x, new CompressionContext(t, 5));
            sent.add_(compressor.Decompress(c));
        }
        var memory = ((ErrorFeedback)compressor).Memory!;
        Assert.True((sent + memory).allclose(inputs, rtol: 1e-9, atol: 1e-9));
        ((IDisposable)compressor).Dispose();
    }

    [Fact]
    public void ErrorFeedback_with_PowerSgd_keeps_what_the_low_rank_step_missed()
    {
        var layout = new ParameterLayout([("w", [6, 5], 0, 30), ("b", [5], 30, 5)]);
        using var ef = new ErrorFeedback(new PowerSgd(1));
        using var g = new torch.Generator(23);
        using var inputs = torch.zeros(35, dtype: torch.ScalarType.Float64);
        using var sent = torch.zeros(35, dtype: torch.ScalarType.Float64);
        for (int t = 0; t < 5; t++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.randn(35, generator: g, dtype: torch.ScalarType.Float64);
            inputs.add_(x);
            using var c = ef.Compress(x, new CompressionContext(t, 5, layout));
            sent.add_(ef.Decompress(c));
        }
        Assert.True((sent + ef.Memory!).allclose(inputs, rtol: 1e-9, atol: 1e-9));
        // Biases go raw, so nothing of them is left in the memory.
        Assert.True(ef.Memory!.narrow(0, 30, 5).abs().max().item<double>() < 1e-12);
    }
}

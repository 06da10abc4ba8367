using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Tests.Models;

/// <summary>The vision transformer, collaborative attention and the conversion of trained standard attention (ALGORITHMS.md section 10).</summary>
public class AttentionSpec
{
    [Theory]
    [InlineData(AttentionKind.Standard, 0, 4, 2, 64)]
    [InlineData(AttentionKind.Collaborative, 16, 4, 2, 64)]
    [InlineData(AttentionKind.Collaborative, 64, 8, 3, 128)]
    public void Parameter_counts_are_computed_without_building_the_model(AttentionKind attention, int keyDim, int heads, int layers, int width)
    {
        var a = new ModelArchitecture("transformer", attention, keyDim, heads, layers, width);
        using var model = ModelFactory.Create(a, [1, 28, 28], 10);
        Assert.Equal(ModelFactory.ParameterCount(a, 784, 10), FlatParameters.Count(model));
        using var x = torch.rand(3, 1, 28, 28);
        using var y = model.forward(x);
        Assert.Equal([3L, 10], y.shape);
    }

    [Fact]
    public void Collaborative_attention_at_a_quarter_key_dim_has_a_quarter_of_the_query_key_weights()
    {
        // width 64, 4 heads of 16: standard Q and K are 2 x (64 x 64 + 64) = 8,320; collaborative at 16 is
        // 2 x 64 x 16 (Wq~, Wk~) + 4 x 16 (mixing) + 4 x 64 (content bias) = 2,368.
        Assert.Equal(8320, ModelFactory.QueryKeyParameters(new ModelArchitecture("transformer")));
        Assert.Equal(2368, ModelFactory.QueryKeyParameters(new ModelArchitecture("transformer", AttentionKind.Collaborative, 16)));
    }

    [Fact]
    public void Collaborative_scores_follow_the_formula_by_hand()
    {
        // One head of dimension 2 (width 2), key-dim 2: scores = (x Wq~ diag(m))(x Wk~)^T / sqrt(2) + 1 (x c)^T.
        torch.set_default_dtype(torch.float64);
        try
        {
            using var layer = new CollaborativeAttention(width: 2, heads: 1, keyDim: 2);
            using (torch.no_grad())
            {
                layer.Query.weight!.copy_(torch.tensor(new double[,] { { 1, 0 }, { 0, 2 } }));
                layer.Key.weight!.copy_(torch.tensor(new double[,] { { 1, 1 }, { 0, 1 } }));
                layer.Mixing.copy_(torch.tensor(new double[,] { { 3, -1 } }));
                layer.ContentBias.copy_(torch.tensor(new double[,] { { 0.5, -0.5 } }));
            }
            using var x = torch.tensor(new double[] { 1, 2, 3, -1 }).reshape(1, 2, 2); // tokens (1, 2) and (3, -1)
            using var scores = layer.Scores(x);
            // q~ = x Wq~^T: (1, 4), (3, -2); times m: (3, -4), (9, 2). k~ = x Wk~^T: (3, 2), (2, -1).
            // content: x . c = -0.5 for token 0, 2 for token 1 (added per key).
            double r = Math.Sqrt(2);
            double[] expected = [(9 - 8) / r - 0.5, (6 + 4) / r + 2, (27 + 4) / r - 0.5, (18 - 2) / r + 2];
            var actual = scores.reshape(-1).data<double>().ToArray();
            for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 12);
        }
        finally
        {
            torch.set_default_dtype(torch.float32);
        }
    }

    [Fact]
    public void Conversion_at_full_rank_reproduces_the_layer_with_its_biases()
    {
        torch.random.manual_seed(7);
        using var standard = new StandardAttention(width: 32, heads: 4);
        standard.to(torch.float64);
        using (torch.no_grad())
            foreach (var p in standard.parameters()) p.copy_(torch.randn_like(p).MulBy(0.5)); // biases far from zero too
        using var collaborative = new CollaborativeAttention(width: 32, heads: 4, keyDim: 32);
        collaborative.to(torch.float64);
        var fit = AttentionConversion.Convert(standard, collaborative);
        Assert.True(fit.FitError < 1e-10, $"fit error {fit.FitError}");
        using var x = torch.randn(5, 9, 32, torch.float64);
        using var before = standard.forward(x);
        using var after = collaborative.forward(x);
        double gap = before.sub(after).abs().max().item<double>();
        Assert.True(gap < 1e-5, $"max output difference {gap}");
        // The scores themselves differ by the key bias's row constant; the softmax does not see it.
        using var s1 = standard.Scores(x);
        using var s2 = collaborative.Scores(x);
        using var shift = s1.sub(s2);
        using var spread = shift.amax([-1]).sub(shift.amin([-1]));
        Assert.True(spread.max().item<double>() < 1e-9);
    }

    [Fact]
    public void A_whole_transformer_converts_at_full_rank_to_the_same_predictions()
    {
        torch.random.manual_seed(11);
        var standardArchitecture = new ModelArchitecture("transformer", Width: 32, Heads: 4);
        var collaborativeArchitecture = standardArchitecture with { Attention = AttentionKind.Collaborative, KeyDim = 32 };
        using var source = (VisionTransformer)ModelFactory.Create(standardArchitecture, [1, 28, 28], 10);
        using var target = (VisionTransformer)ModelFactory.Create(collaborativeArchitecture, [1, 28, 28], 10);
        source.to(torch.float64);
        target.to(torch.float64);
        using (torch.no_grad())
            foreach (var p in source.parameters()) p.add_(torch.randn_like(p).MulBy(0.1));
        var fits = AttentionConversion.Convert(source, target);
        Assert.Equal(2, fits.Count);
        using var x = torch.rand(6, 1, 28, 28, torch.float64);
        using var a = source.forward(x);
        using var b = target.forward(x);
        Assert.True(a.sub(b).abs().max().item<double>() < 1e-5);
    }

    [Fact]
    public void Cp_als_shares_a_component_the_block_start_cannot()
    {
        // T[0] = e1 e1^T, T[1] = 2 e1 e1^T: rank one with M = (1, 2). The block start at rank 1 gives the component to
        // the larger slice only (error 1/sqrt(5)); one ALS sweep shares it and the fit becomes exact.
        using var t = torch.zeros(2, 3, 3, torch.float64);
        t[0, 0, 0] = torch.tensor(1.0, torch.float64);
        t[1, 0, 0] = torch.tensor(2.0, torch.float64);
        using var cp = CpDecomposition.OfSlices(t, rank: 1, blockRank: 1);
        Assert.True(cp.FitError < 1e-12, $"fit error {cp.FitError}");
        var m = cp.M.reshape(-1).data<double>().ToArray();
        Assert.Equal(2.0, m[1] / m[0], 10);
    }

    [Fact]
    public void Cp_fit_error_falls_as_the_rank_grows_and_vanishes_at_full_rank()
    {
        torch.random.manual_seed(3);
        using var wq = torch.randn(4, 16, 4, torch.float64);
        using var wk = torch.randn(4, 16, 4, torch.float64);
        using var t = wq.matmul(wk.transpose(1, 2)); // four slices of rank 4
        double previous = double.PositiveInfinity;
        foreach (int rank in new[] { 2, 4, 8, 12, 16 })
        {
            using var cp = CpDecomposition.OfSlices(t, rank, blockRank: 4);
            Assert.True(cp.FitError <= previous + 1e-9, $"rank {rank}: {cp.FitError} after {previous}");
            using var composed = CpDecomposition.Compose(cp.M, cp.A, cp.B);
            double direct = composed.sub(t).norm().item<double>() / t.norm().item<double>();
            Assert.Equal(direct, cp.FitError, 9);
            previous = cp.FitError;
        }
        Assert.True(previous < 1e-10);
    }

    [Theory]
    [InlineData(AttentionKind.Collaborative, 65, 4, 64, "model.key-dim = 65")]
    [InlineData(AttentionKind.Standard, 16, 4, 64, "only applies to model.attention = collaborative")]
    [InlineData(AttentionKind.Standard, 0, 5, 64, "multiple of model.heads")]
    public void Bad_sizes_name_the_key_to_change(AttentionKind attention, int keyDim, int heads, int width, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelArchitecture("transformer", attention, keyDim, heads, Width: width).Validate());
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}

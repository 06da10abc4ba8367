using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Models;

/// <summary>
/// Re-parametrizes trained standard attention as collaborative attention (Cordonnier et al. 2020, section 4): the
/// per-head bilinear forms Wq_i Wk_i^T, stacked into a [heads, width, width] tensor, get a rank-key-dim CP decomposition
/// T[i] ~ Wq~ diag(m_i) Wk~^T; the query bias becomes the content bias c_i = Wk_i bq_i / sqrt(head_dim) and the key bias,
/// constant along every softmax row, drops out. Values and the output projection are copied. Exact at full rank.
/// </summary>
public static class AttentionConversion
{
    /// <summary>How well one layer's bilinear forms were matched.</summary>
    public sealed record LayerFit(int Layer, double FitError, int Iterations);

    /// <summary>Writes <paramref name="source"/>'s attention into <paramref name="target"/> (same width and heads; target's key-dim is the rank).</summary>
    public static LayerFit Convert(StandardAttention source, CollaborativeAttention target, int layer = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Heads != target.Heads || source.HeadDim != target.HeadDim)
            throw new ArgumentException($"layer {layer}: {source.Heads} heads of {source.HeadDim} cannot become {target.Heads} heads of {target.HeadDim}");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        int heads = source.Heads, headDim = source.HeadDim;
        var wq = source.Query.weight!.to(torch.float64);
        var wk = source.Key.weight!.to(torch.float64);
        var bq = source.Query.bias!.to(torch.float64);
        // Linear computes x W^T: head i's query map is Wq_i = W_q[rows of i]^T, [width, head_dim].
        var slices = torch.stack([.. Enumerable.Range(0, heads).Select(i =>
            wq.narrow(0, i * headDim, headDim).t().matmul(wk.narrow(0, i * headDim, headDim)))]);
        using var cp = CpDecomposition.OfSlices(slices, target.KeyDim, headDim);
        var content = torch.stack([.. Enumerable.Range(0, heads).Select(i =>
            wk.narrow(0, i * headDim, headDim).t().matmul(bq.narrow(0, i * headDim, headDim)))]).DivBy(Math.Sqrt(headDim));
        Copy(target.Query.weight!, cp.A.t());
        Copy(target.Key.weight!, cp.B.t());
        Copy(target.Mixing, cp.M);
        Copy(target.ContentBias, content);
        Copy(target.Value.weight!, source.Value.weight!);
        Copy(target.Value.bias!, source.Value.bias!);
        Copy(target.Out.weight!, source.Out.weight!);
        Copy(target.Out.bias!, source.Out.bias!);
        return new LayerFit(layer, cp.FitError, cp.Iterations);
    }

    /// <summary>
    /// Converts every block of a standard transformer into <paramref name="target"/> (a collaborative transformer of the
    /// same size): parameters outside the query/key projections are copied by name, each attention layer is decomposed.
    /// </summary>
    public static IReadOnlyList<LayerFit> Convert(VisionTransformer source, VisionTransformer target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Blocks.Count != target.Blocks.Count)
            throw new ArgumentException($"{source.Blocks.Count} layers cannot become {target.Blocks.Count}");
        using (torch.no_grad())
        {
            var from = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in target.named_parameters())
                if (!IsQueryKey(name) && from.TryGetValue(name, out var q) && q.shape.SequenceEqual(p.shape)) Copy(p, q);
        }
        var fits = new List<LayerFit>();
        for (int l = 0; l < source.Blocks.Count; l++)
        {
            if (source.Blocks[l].Attention is not StandardAttention s)
                throw new ArgumentException($"layer {l} of the source is not standard attention: only standard attention converts");
            if (target.Blocks[l].Attention is not CollaborativeAttention c)
                throw new ArgumentException($"layer {l} of the target is not collaborative attention");
            fits.Add(Convert(s, c, l));
        }
        return fits;
    }

    private static bool IsQueryKey(string name) => name.Contains(".attention.query.", StringComparison.Ordinal)
                                                  || name.Contains(".attention.key.", StringComparison.Ordinal);

    private static void Copy(torch.Tensor target, torch.Tensor value)
    {
        using var _ = torch.no_grad();
        using var v = value.to(target.dtype).reshape(target.shape);
        target.copy_(v);
    }
}

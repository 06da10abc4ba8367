using Actors.Learning.Util;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Actors.Learning.Models;

/// <summary>A self-attention layer over [N, T, width] tokens: what a transformer block calls, whichever way it scores.</summary>
public abstract class AttentionLayer(string name, int heads, int headDim) : Module<Tensor, Tensor>(name)
{
    public int Heads { get; } = heads;
    public int HeadDim { get; } = headDim;

    /// <summary>The attention scores [N, heads, T, T] before the softmax (already divided by sqrt(head_dim)).</summary>
    public abstract Tensor Scores(Tensor x);

    /// <summary>The values [N, heads, T, head_dim].</summary>
    protected abstract Tensor Values(Tensor x);

    protected abstract Tensor Output(Tensor mixed);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], t = x.shape[1];
        var weights = functional.softmax(Scores(x), -1);
        var mixed = weights.matmul(Values(x)).transpose(1, 2).reshape(n, t, Heads * HeadDim);
        return Output(mixed).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Standard multi-head attention: head i scores (x Wq_i + bq_i)(x Wk_i + bk_i)^T / sqrt(head_dim), with its own query and
/// key projections of width head_dim (rows i*head_dim.. of <c>query.weight</c> and <c>key.weight</c>).
/// </summary>
public sealed class StandardAttention : AttentionLayer
{
    private readonly Linear query, key, value, output;

    public StandardAttention(int width, int heads) : base("attention", heads, width / heads)
    {
        query = Linear(width, width);
        key = Linear(width, width);
        value = Linear(width, width);
        output = Linear(width, width);
        RegisterComponents();
    }

    public Linear Query => query;
    public Linear Key => key;
    public Linear Value => value;
    public Linear Out => output;

    private Tensor Split(Tensor projected) => projected.view(projected.shape[0], projected.shape[1], Heads, HeadDim).transpose(1, 2);

    public override Tensor Scores(Tensor x)
    {
        using var scope = NewDisposeScope();
        var q = Split(query.forward(x));
        var k = Split(key.forward(x));
        return q.matmul(k.transpose(-1, -2)).DivBy(Math.Sqrt(HeadDim)).MoveToOuterDisposeScope();
    }

    protected override Tensor Values(Tensor x) => Split(value.forward(x));

    protected override Tensor Output(Tensor mixed) => output.forward(mixed);
}

/// <summary>
/// Collaborative multi-head attention (Cordonnier et al. 2020): all heads share one query projection Wq~ and one key
/// projection Wk~ of width key-dim; head i re-weights the shared dimensions by its mixing vector m_i and adds a content
/// bias c_i over the keys: scores_i = (x Wq~ diag(m_i))(x Wk~)^T / sqrt(head_dim) + 1 (x c_i)^T. The key bias of standard
/// attention is constant along each softmax row and has no counterpart; its query bias becomes c_i = Wk_i bq_i.
/// Values and the output projection are those of standard attention; the scaling keeps the original head_dim.
/// </summary>
public sealed class CollaborativeAttention : AttentionLayer
{
    private readonly Linear query, key, value, output;
    private readonly Parameter mixing, content_bias;

    public CollaborativeAttention(int width, int heads, int keyDim) : base("attention", heads, width / heads)
    {
        if (keyDim < 1) throw new ArgumentOutOfRangeException(nameof(keyDim), keyDim, "the shared key dimension must be positive");
        KeyDim = keyDim;
        query = Linear(width, keyDim, hasBias: false);
        key = Linear(width, keyDim, hasBias: false);
        // Mixing vectors ~ N(0, 1/max(1, keyDim/headDim)): a head's score then has the variance of a standard head's.
        mixing = Parameter(randn(heads, keyDim).DivBy_(Math.Sqrt(Math.Max(1.0, (double)keyDim / HeadDim))));
        content_bias = Parameter(zeros(heads, width));
        value = Linear(width, width);
        output = Linear(width, width);
        RegisterComponents();
    }

    public int KeyDim { get; }
    public Linear Query => query;
    public Linear Key => key;
    public Linear Value => value;
    public Linear Out => output;
    public Parameter Mixing => mixing;
    public Parameter ContentBias => content_bias;

    public override Tensor Scores(Tensor x)
    {
        using var scope = NewDisposeScope();
        var q = query.forward(x).unsqueeze(1).mul(mixing.unsqueeze(1)); // [N, H, T, Dk]
        var k = key.forward(x).unsqueeze(1);                               // [N, 1, T, Dk]
        var scores = q.matmul(k.transpose(-1, -2)).DivBy(Math.Sqrt(HeadDim));
        var content = x.matmul(content_bias.t()).transpose(1, 2).unsqueeze(2); // [N, H, 1, T]: a term per key, the same for every query
        return scores.Plus(content).MoveToOuterDisposeScope();
    }

    protected override Tensor Values(Tensor x) =>
        value.forward(x).view(x.shape[0], x.shape[1], Heads, HeadDim).transpose(1, 2);

    protected override Tensor Output(Tensor mixed) => output.forward(mixed);
}

/// <summary>A pre-norm transformer block: x + attention(norm(x)), then x + mlp(norm(x)) with a GELU hidden layer of twice the width.</summary>
public sealed class TransformerBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly AttentionLayer attention;
    private readonly Linear fc1, fc2;

    public TransformerBlock(int width, AttentionLayer attention) : base("block")
    {
        norm1 = LayerNorm(width);
        this.attention = attention;
        norm2 = LayerNorm(width);
        fc1 = Linear(width, 2 * width);
        fc2 = Linear(2 * width, width);
        RegisterComponents();
    }

    public AttentionLayer Attention => attention;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(attention.forward(norm1.forward(x)));
        var m = fc2.forward(functional.gelu(fc1.forward(norm2.forward(h))));
        return h.Plus(m).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A small vision transformer for [N, C, S, S] images: non-overlapping patch x patch tiles as tokens (16 of 7x7 on
/// 28x28), a linear patch embedding plus learned positions, pre-norm blocks, a final norm, mean pooling over tokens and
/// a linear classifier. No dropout: a run stays a function of its seed.
/// </summary>
public sealed class VisionTransformer : Module<Tensor, Tensor>
{
    private readonly int _patch, _grid, _channels;
    private readonly Linear embed;
    private readonly Parameter position;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;

    public VisionTransformer(ModelArchitecture a, long[] itemShape, int classes) : base("transformer")
    {
        ArgumentNullException.ThrowIfNull(a);
        a.Validate();
        (_channels, _grid) = Grid(a, itemShape);
        _patch = a.Patch;
        embed = Linear(_channels * a.Patch * a.Patch, a.Width);
        position = Parameter(randn(_grid * _grid, a.Width).MulBy_(0.02));
        blocks = new ModuleList<TransformerBlock>([.. Enumerable.Range(0, a.Layers).Select(_ =>
            new TransformerBlock(a.Width, a.Attention == AttentionKind.Standard
                ? new StandardAttention(a.Width, a.Heads)
                : new CollaborativeAttention(a.Width, a.Heads, a.EffectiveKeyDim)))]);
        norm = LayerNorm(a.Width);
        head = Linear(a.Width, classes);
        RegisterComponents();
    }

    public IReadOnlyList<TransformerBlock> Blocks => [.. blocks];

    /// <summary>(channels, patches per side) of an image shape, or a message naming what to change.</summary>
    public static (int Channels, int Grid) Grid(ModelArchitecture a, long[] itemShape)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(itemShape);
        if (itemShape is not [var c, var h, var w] || h != w)
            throw new ArgumentException($"model.type = transformer needs square images [channels, side, side], got [{string.Join("x", itemShape)}]");
        if (h % a.Patch != 0) throw new ArgumentException($"model.patch = {a.Patch} must divide the image side {h}");
        return ((int)c, (int)(h / a.Patch));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        var tokens = x.reshape(n, _channels, _grid, _patch, _grid, _patch).permute(0, 2, 4, 1, 3, 5)
            .reshape(n, _grid * _grid, _channels * _patch * _patch);
        var h = embed.forward(tokens).Plus(position);
        foreach (var block in blocks) h = block.forward(h);
        return head.forward(norm.forward(h).mean([1])).MoveToOuterDisposeScope();
    }
}

namespace Actors.Learning.Models;

/// <summary>How a transformer's attention layers compute their scores (`model.attention`).</summary>
public enum AttentionKind
{
    /// <summary>Each head has its own query and key projection of width head_dim (the key dimension is heads x head_dim).</summary>
    Standard,

    /// <summary>All heads share one query and one key projection of width key-dim, mixed per head (Cordonnier et al.).</summary>
    Collaborative,
}

/// <summary>
/// Everything that decides a model's shape: its type (`model.type`) and, for the transformer, its size and attention
/// (`model.attention`, `model.key-dim`, ...). A bare type name converts implicitly, so the fixed models stay one word.
/// </summary>
public sealed record ModelArchitecture(string Type, AttentionKind Attention = AttentionKind.Standard, int KeyDim = 0,
    int Heads = 4, int Layers = 2, int Width = 64, int Patch = 7)
{
    public static implicit operator ModelArchitecture(string type) => new(type);


    /// <summary>Width of one head's value (and, for standard attention, query and key): width / heads.</summary>
    public int HeadDim => Heads > 0 ? Width / Heads : 0;

    /// <summary>The shared query/key width: key-dim when set, else heads x head_dim (what standard attention uses).</summary>
    public int EffectiveKeyDim => KeyDim > 0 ? KeyDim : Heads * HeadDim;

    public bool IsTransformer => Type == "transformer";

    /// <summary>The transformer's size rules, with the key to change in each message; nothing for the other types.</summary>
    public void Validate()
    {
        if (!IsTransformer) return;
        if (Heads < 1) throw new ArgumentException($"model.heads = {Heads}: a transformer needs at least one head");
        if (Layers < 1) throw new ArgumentException($"model.layers = {Layers}: a transformer needs at least one layer");
        if (Width < 1 || Width % Heads != 0)
            throw new ArgumentException($"model.width = {Width} must be a positive multiple of model.heads = {Heads} (each head gets width / heads)");
        if (Patch < 1) throw new ArgumentException($"model.patch = {Patch} must be positive");
        if (KeyDim < 0 || KeyDim > Heads * HeadDim)
            throw new ArgumentException($"model.key-dim = {KeyDim} must be in [1, {Heads * HeadDim}] (heads x head_dim), or 0 for heads x head_dim");
        if (Attention == AttentionKind.Standard && KeyDim != 0 && KeyDim != Heads * HeadDim)
            throw new ArgumentException($"model.key-dim = {KeyDim} only applies to model.attention = collaborative (standard attention's key dimension is heads x head_dim = {Heads * HeadDim})");
    }

    /// <summary>One line for banners: "transformer (collaborative, key-dim 16, 4 heads x 2 layers, width 64)".</summary>
    public override string ToString() => IsTransformer
        ? $"transformer ({(Attention == AttentionKind.Standard ? "standard" : "collaborative")}, key-dim {EffectiveKeyDim}, {Heads} heads x {Layers} layers, width {Width})"
        : Type;
}

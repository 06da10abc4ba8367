using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// A compressed vector as it travels: the codec that made it, the original shape and dtype, the tensors that go on
/// the wire (values, indices, low-rank factors...) and any scalars (norms, levels...). The per-step seed lets the
/// receiver regenerate shared random choices (rand-k indices, random-block starts) without them being sent.
/// Owns its tensors. <see cref="Wire.TensorPayload.SizeOf(CompressedTensor)"/> is its exact serialized size.
/// </summary>
public sealed class CompressedTensor(
    string codec,
    long[] shape,
    IReadOnlyList<torch.Tensor> parts,
    double[]? scalars = null,
    long seed = 0,
    torch.ScalarType dtype = torch.ScalarType.Float32) : IDisposable
{
    public string Codec { get; } = codec;
    public long[] Shape { get; } = shape;
    public IReadOnlyList<torch.Tensor> Parts { get; } = parts;
    public double[] Scalars { get; } = scalars ?? [];
    public long Seed { get; } = seed;

    /// <summary>The dtype of the tensor this decompresses to.</summary>
    public torch.ScalarType DType { get; } = dtype;

    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);

    public void Dispose()
    {
        foreach (var p in Parts) p.Dispose();
    }
}

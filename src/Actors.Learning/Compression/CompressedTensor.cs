using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// A compressed vector as it travels: the codec that made it, the original shape, the tensors that go on the wire
/// (values, indices, low-rank factors...) and any scalars (norms, block start...). <see cref="WireBytes"/> is the exact
/// serialized size of the payload. Owns its tensors.
/// </summary>
public sealed class CompressedTensor(string codec, long[] shape, IReadOnlyList<torch.Tensor> parts, double[]? scalars = null, long seed = 0) : IDisposable
{
    public string Codec { get; } = codec;
    public long[] Shape { get; } = shape;
    public IReadOnlyList<torch.Tensor> Parts { get; } = parts;
    public double[] Scalars { get; } = scalars ?? [];
    public long Seed { get; } = seed;
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);

    public void Dispose()
    {
        foreach (var p in Parts) p.Dispose();
    }
}

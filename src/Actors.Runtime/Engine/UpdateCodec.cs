using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Learning.Wire;
using TorchSharp;

namespace Actors.Runtime.Engine;

/// <summary>
/// Turns a vector into what goes on the wire with one party's compressor (and its error-feedback memory), with the
/// per-step shared seed and the parameter layout low-rank compressors need. Exact sizes come with the payload.
/// </summary>
public sealed class UpdateCodec(ICompressor compressor, ParameterLayout layout, ulong sharedSeed) : IDisposable
{
    public ICompressor Compressor { get; } = compressor;

    /// <summary>Values in one message (the layout's size): what <see cref="Cost"/> scales with.</summary>
    public long Values { get; } = layout.Size;

    /// <summary>Encode and decode time on the virtual clock (`timing.compression-cost`); free unless the run charges it.</summary>
    public CompressionCost Cost { get; init; } = CompressionCost.None;

    /// <summary>What a vector of this model costs uncompressed (bytes_uplink_uncompressed).</summary>
    public int UncompressedBytes { get; } = TensorPayload.UncompressedSizeBytes(layout.Size);

    /// <summary>The message payload for <paramref name="vector"/> (in-process form: the wire bytes are made only if it leaves the process).</summary>
    /// <summary>As <see cref="Encode"/>, but consumes <paramref name="vector"/> (a fresh tensor the caller made for this message): uncompressed, it becomes the payload without a copy.</summary>
    public TensorPayload EncodeOwned(torch.Tensor vector, long step)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (Compressor is Identity) return TensorPayload.LocalOwning(vector);
        using (vector) return Encode(vector, step);
    }

    public TensorPayload Encode(torch.Tensor vector, long step)
    {
        if (Compressor is Identity) return TensorPayload.LocalFromTensor(vector);
        using var scope = torch.NewDisposeScope();
        CompressedTensor compressed;
        try
        {
            compressed = Compressor.Compress(vector, new CompressionContext(step, sharedSeed, layout));
        }
        catch (NonFiniteInputException)
        {
            // A diverged worker: its vector, or the error-feedback memory added to it, is not finite and this codec (QSGD,
            // sign) cannot encode it. It sends a non-finite update uncompressed, so the aggregator drops it as non_finite
            // and a diverged run ends as a result rather than a crash.
            using var nan = torch.full_like(vector, double.NaN);
            return TensorPayload.LocalFromTensor(nan);
        }
        return TensorPayload.Local(compressed); // takes the tensors out of the scope
    }

    public void Dispose() => (Compressor as IDisposable)?.Dispose();
}

using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// Compresses a flat 1-D vector into what goes on the wire, and back. Compressors may keep state
/// (PowerSGD warm-starts Q); error feedback is a wrapper (<c>e += g; c = C(e); e -= D(c)</c>).
/// </summary>
public interface ICompressor
{
    /// <summary>The config name (`compression.type`).</summary>
    string Name { get; }

    /// <summary>True when D(C(a)) + D(C(b)) = D(C(a) + C(b)) for messages made with the same context, so an aggregator may sum compressed parts directly.</summary>
    bool IsLinear { get; }

    CompressedTensor Compress(torch.Tensor x, CompressionContext context);

    torch.Tensor Decompress(CompressedTensor compressed);
}

/// <summary>
/// What a compressor may know: the step (for per-step shared seeds, identical on all workers), a seed shared by all
/// parties of the run, and the parameter layout (low-rank compressors compress 2-D weight matrices only).
/// </summary>
public sealed record CompressionContext(long Step, ulong SharedSeed, ParameterLayout? Layout = null)
{
    /// <summary>The per-step seed every party derives identically for one codec (random sparsifiers' shared choice).</summary>
    public long StepSeed(string codec) => (long)Seeds.Derive(unchecked((long)SharedSeed), codec, Step);
}

/// <summary>
/// A compressor was given a vector with NaN or infinite entries (a diverged worker's gradient, or its error-feedback memory)
/// that its encoding cannot represent. Senders turn it into a non-finite update the receiver can recognise.
/// </summary>
public sealed class NonFiniteInputException(string message) : ArgumentException(message);

using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// Error feedback around any compressor (Stich et al. 2018; Karimireddy et al. 2019): e += x; c = C(e); e -= D(c).
/// The memory <see cref="Memory"/> is exactly what has not been sent yet. Name and linearity are the inner
/// compressor's, so the wire and the aggregator need not know feedback is on. Meant for contractive compressors
/// (top-k, contractive rand-k, random-block, sign, PowerSGD); with rand-k's unbiased d/k scaling the memory overshoots.
/// </summary>
public sealed class ErrorFeedback(ICompressor inner) : ICompressor, IDisposable
{
    private torch.Tensor? _memory;

    public ICompressor Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));
    public string Name => Inner.Name;
    public bool IsLinear => Inner.IsLinear;

    /// <summary>The residual not sent yet (null before the first call). Owned by this wrapper: read, do not dispose.</summary>
    public torch.Tensor? Memory => _memory;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        // No dispose scope here: the returned parts must outlive this call (a scope would dispose them on exit).
        if (_memory is null || !_memory.shape.SequenceEqual(x.shape) || _memory.dtype != x.dtype)
        {
            _memory?.Dispose();
            _memory = torch.zeros_like(x).detach().DetachFromDisposeScope();
        }
        using (var input = x.detach()) _memory.add_(input);
        var compressed = Inner.Compress(_memory, context);
        using (var sent = Inner.Decompress(compressed)) _memory.sub_(sent);
        return compressed;
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Inner.Decompress(compressed);

    public void Dispose()
    {
        _memory?.Dispose();
        _memory = null;
        (Inner as IDisposable)?.Dispose();
    }
}

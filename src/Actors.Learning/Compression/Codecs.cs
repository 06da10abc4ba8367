using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// One codec: its config name (`compression.type`), its wire id (never reuse or renumber one: payloads on the wire and
/// in checkpoints carry it), how to build its compressor, how any receiver rebuilds the dense tensor without the
/// sender's compressor, and what its payload must look like to be accepted.
/// </summary>
public sealed record Codec(
    string Name,
    byte WireId,
    Func<CompressionSettings, long, ICompressor> Create,
    Func<CompressedTensor, torch.Tensor> Reconstruct,
    Action<IPayloadView, long> Check)
{
    /// <summary>The codec's own rules, then (unless <paramref name="allowNonFiniteValues"/>) finite values.</summary>
    public void CheckPayload(IPayloadView payload, long numel, bool allowNonFiniteValues)
    {
        Check(payload, numel);
        if (!allowNonFiniteValues) PayloadChecks.Finite(payload);
    }
}

/// <summary>
/// The table of codecs: the only place that lists them. Names, wire ids, construction, decompression and payload rules
/// are all derived from it; a new compressor is one file plus one line here.
/// </summary>
public static class Codecs
{
    public static readonly IReadOnlyList<Codec> All =
    [
        new(Identity.CodecName, 1, (_, _) => new Identity(), Identity.Reconstruct, PayloadChecks.Identity),
        new(TopK.CodecName, 2, (s, _) => new TopK(s.Ratio), TopK.Reconstruct, PayloadChecks.TopK),
        new(RandK.CodecName, 3, (s, _) => new RandK(s.Ratio, s.Scaling), RandK.Reconstruct, PayloadChecks.RandK),
        new(RandomBlockSparsifier.CodecName, 4,
            (s, _) => s.Block == RandomBlockSize.Rank ? RandomBlockSparsifier.RankMatched(s.Rank) : new RandomBlockSparsifier(s.Ratio),
            RandomBlockSparsifier.Reconstruct, PayloadChecks.RandomBlock),
        new(Qsgd.CodecName, 5, (s, seed) => new Qsgd(s.Levels, seed), Qsgd.Reconstruct, PayloadChecks.Qsgd),
        new(ScaledSign.CodecName, 6, (_, _) => new ScaledSign(), ScaledSign.Reconstruct, PayloadChecks.ScaledSign),
        new(PowerSgd.CodecName, 7, (s, _) => new PowerSgd(s.Rank), PowerSgd.Reconstruct, PayloadChecks.PowerSgd),
        new(MaskedSparse.CodecName, 8, (_, _) => new MaskedSparse(), MaskedSparse.Reconstruct, PayloadChecks.MaskedSparse),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(c => c.Name)];

    public static Codec Get(string name) =>
        All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"compression.type = '{name}' is unknown (valid: {string.Join(", ", Names)})", nameof(name));

    public static bool TryGet(byte wireId, out Codec codec)
    {
        codec = All.FirstOrDefault(c => c.WireId == wireId)!;
        return codec is not null;
    }

    /// <summary>Decompresses any message by its codec, without the sender's compressor (what a receiver does).</summary>
    public static torch.Tensor Decompress(CompressedTensor compressed)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        // A dispose scope holds every intermediate tensor: a chained temporary (x.reshape(..).to(..)) is otherwise only
        // reachable from the native call and the GC may finalize it mid-call (seen here as "tensor does not have a device").
        using var scope = torch.NewDisposeScope();
        return Get(compressed.Codec).Reconstruct(compressed).MoveToOuterDisposeScope();
    }
}

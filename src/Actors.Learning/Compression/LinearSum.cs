using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// Sums messages of a linear compressor without decompressing them (what an all-reduce does): the value parts add up,
/// everything else (shape, seed, random-block segments) must be identical, i.e. the messages were made at the same step
/// with the same shared seed. D(Sum(c_i)) = sum_i D(c_i).
/// </summary>
public static class LinearSum
{
    private static readonly string[] LinearCodecs = [Identity.CodecName, RandK.CodecName, RandomBlockSparsifier.CodecName];

    public static bool IsSummable(string codec) => LinearCodecs.Contains(codec);

    /// <summary>The sum as a new message (the caller owns it; the inputs are not touched).</summary>
    public static CompressedTensor Sum(IReadOnlyList<CompressedTensor> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) throw new ArgumentException("nothing to sum", nameof(messages));
        using var scope = torch.NewDisposeScope();
        var first = messages[0];
        if (!IsSummable(first.Codec))
            throw new ArgumentException($"codec '{first.Codec}' is not linear; summable: {string.Join(", ", LinearCodecs)}", nameof(messages));
        foreach (var m in messages.Skip(1))
        {
            if (m.Codec != first.Codec || m.Seed != first.Seed || m.DType != first.DType || !m.Shape.SequenceEqual(first.Shape)
                || m.Parts.Count != first.Parts.Count || !m.Parts[0].shape.SequenceEqual(first.Parts[0].shape))
                throw new ArgumentException("messages differ in codec, seed, dtype or shape: they were not made at the same step", nameof(messages));
            for (int i = 1; i < m.Parts.Count; i++)
                if (!m.Parts[i].equal(first.Parts[i]).all().item<bool>())
                    throw new ArgumentException($"messages differ in part {i} (their block layout): they were not made at the same step", nameof(messages));
        }
        var total = first.Parts[0].clone();
        foreach (var m in messages.Skip(1)) total.add_(m.Parts[0]);
        var rest = first.Parts.Skip(1).Select(p => p.clone().MoveToOuterDisposeScope());
        return new CompressedTensor(first.Codec, first.Shape, [total.MoveToOuterDisposeScope(), .. rest], first.Scalars, first.Seed, first.DType);
    }
}

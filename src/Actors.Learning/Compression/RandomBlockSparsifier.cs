using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>`compression.block`: how big each tensor's random block is.</summary>
public enum RandomBlockSize
{
    /// <summary>k_i = ratio * d_i.</summary>
    Ratio,
    /// <summary>k_i = rank * (rows + cols), capped at d_i: the PowerSGD paper's rank-matched random-block baseline.</summary>
    Rank,
}

/// <summary>
/// `random-block`: each parameter tensor (each entry of the layout, or the whole vector without one) sends one
/// contiguous block of k_i = ratio * d_i values. The block start is drawn from a per-step seed identical on all
/// workers and wraps around the end of the tensor. Only the values travel (plus one (d_i, k_i) pair per tensor so the
/// receiver needs no layout); messages made at the same step sum like an all-reduce (linear). Unscaled.
/// Block sizes: k_i = ratio * d_i (<see cref="RandomBlockSize.Ratio"/>), or, <see cref="RankMatched"/>, the PowerSGD
/// reference code's baseline: k_i = r (rows + cols) of the tensor seen as a matrix (rows = first dimension), capped at
/// d_i, so that it sends as many values as rank-r PowerSGD; vectors (biases) then go whole.
/// </summary>
public sealed class RandomBlockSparsifier : ICompressor
{
    public const string CodecName = "random-block";

    public RandomBlockSparsifier(double ratio)
    {
        Ratio = ratio > 0 && ratio <= 1 ? ratio : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "ratio must be in (0, 1]");
    }

    private RandomBlockSparsifier(int rank)
    {
        Rank = rank >= 1 ? rank : throw new ArgumentOutOfRangeException(nameof(rank), rank, "rank must be >= 1");
        Ratio = 1;
    }

    /// <summary>Blocks of r (rows + cols) values per tensor, as many as rank-r PowerSGD sends (needs the layout).</summary>
    public static RandomBlockSparsifier RankMatched(int rank) => new(rank);

    public double Ratio { get; }

    /// <summary>Set for rank-matched blocks.</summary>
    public int? Rank { get; }

    public string Name => CodecName;
    public bool IsLinear => true;

    public CompressedTensor Compress(torch.Tensor x, CompressionContext context)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(context);
        Sparsity.CheckFlat(x, CodecName);
        using var scope = torch.NewDisposeScope();
        long d = x.shape[0];
        var sizes = SegmentSizes(context.Layout, d);
        if (Rank is not null && (context.Layout is null || context.Layout.Entries.Count == 0))
            throw new ArgumentException($"{CodecName} with compression.block = rank needs the parameter layout (tensor shapes)");
        long seed = context.StepSeed(CodecName);
        var segments = new long[sizes.Length * 2];
        var blocks = new List<torch.Tensor>(sizes.Length);
        long offset = 0;
        var flat = x.detach();
        for (int i = 0; i < sizes.Length; i++)
        {
            long di = sizes[i];
            long ki = Rank is { } r ? RankMatchedCount(r, context.Layout!.Entries[i].Shape, di) : Sparsity.KeepCount(Ratio, di);
            segments[2 * i] = di;
            segments[2 * i + 1] = ki;
            if (ki > 0)
            {
                long start = Start(seed, i, di);
                long first = Math.Min(ki, di - start);
                blocks.Add(flat.narrow(0, offset + start, first));
                if (first < ki) blocks.Add(flat.narrow(0, offset, ki - first));
            }
            offset += di;
        }
        // The values must not alias x (error feedback subtracts from x right after); cat of one tensor may return it.
        var values = blocks.Count switch
        {
            0 => torch.empty(0, dtype: x.dtype),
            1 => blocks[0].clone(),
            _ => torch.cat(blocks, 0),
        };
        var segmentTensor = torch.tensor(segments);
        values.MoveToOuterDisposeScope();
        segmentTensor.MoveToOuterDisposeScope();
        return new CompressedTensor(CodecName, x.shape, [values, segmentTensor], seed: seed, dtype: x.dtype);
    }

    public torch.Tensor Decompress(CompressedTensor compressed) => Compressors.Decompress(compressed);

    public static torch.Tensor Reconstruct(CompressedTensor c)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = torch.NewDisposeScope();
        var values = c.Parts[0].to(c.DType);
        var segments = c.Parts[1].to(torch.ScalarType.Int64).ToHostArray<long>();
        var dense = torch.zeros(c.Numel, dtype: c.DType);
        long offset = 0, read = 0;
        for (int i = 0; i < segments.Length / 2; i++)
        {
            long di = segments[2 * i], ki = segments[2 * i + 1];
            if (ki > 0)
            {
                long start = Start(c.Seed, i, di);
                long first = Math.Min(ki, di - start);
                dense.narrow(0, offset + start, first).copy_(values.narrow(0, read, first));
                if (first < ki) dense.narrow(0, offset, ki - first).copy_(values.narrow(0, read + first, ki - first));
                read += ki;
            }
            offset += di;
        }
        return dense.reshape(c.Shape).MoveToOuterDisposeScope();
    }

    /// <summary>r (rows + cols) for the tensor viewed as rows x (d / rows), at most d (the reference code's block_size).</summary>
    public static long RankMatchedCount(int rank, long[] shape, long d)
    {
        if (d == 0) return 0;
        long rows = shape.Length == 0 ? 1 : Math.Max(1, shape[0]);
        long cols = d / rows;
        return Math.Min((long)rank * (rows + cols), d);
    }

    /// <summary>Block start of tensor <paramref name="index"/> at this step: uniform in [0, d).</summary>
    public static long Start(long seed, int index, long d) =>
        d == 0 ? 0 : (long)(Seeds.Mix(unchecked((ulong)seed) ^ (ulong)index) % (ulong)d);

    private static long[] SegmentSizes(ParameterLayout? layout, long d)
    {
        if (layout is null || layout.Entries.Count == 0) return [d];
        if (layout.Size != d)
            throw new ArgumentException($"{CodecName}: the layout describes {layout.Size} values but the vector has {d}");
        return layout.Entries.Select(e => e.Count).ToArray();
    }
}

using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// `random-block`: each parameter tensor (each entry of the layout, or the whole vector without one) sends one
/// contiguous block of k_i = ratio * d_i values. The block start is drawn from a per-step seed identical on all
/// workers and wraps around the end of the tensor. Only the values travel (plus one (d_i, k_i) pair per tensor so the
/// receiver needs no layout); messages made at the same step sum like an all-reduce (linear). Unscaled.
/// </summary>
public sealed class RandomBlockSparsifier(double ratio) : ICompressor
{
    public const string CodecName = "random-block";

    public double Ratio { get; } = ratio > 0 && ratio <= 1
        ? ratio
        : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "ratio must be in (0, 1]");

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
        long seed = (long)Seeds.Derive(unchecked((long)context.SharedSeed), CodecName, context.Step);
        var segments = new long[sizes.Length * 2];
        var blocks = new List<torch.Tensor>(sizes.Length);
        long offset = 0;
        var flat = x.detach();
        for (int i = 0; i < sizes.Length; i++)
        {
            long di = sizes[i];
            long ki = Sparsity.KeepCount(Ratio, di);
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
        var segments = c.Parts[1].to(torch.ScalarType.Int64).data<long>().ToArray();
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

using System.Buffers.Binary;
using System.Runtime.Serialization;
using Actors.Learning.Compression;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Wire;

/// <summary>Outcome of a fuzz run: how many corrupted payloads were rejected and how many still decoded.</summary>
public sealed record FuzzResult(int Cases, int Rejected, int Accepted);

/// <summary>
/// A property-based generator of corrupted payloads (bit flips, truncations, extensions, lying header fields, spliced
/// bytes). The property: <see cref="TensorPayload.Decode"/> either rejects with <see cref="SerializationException"/>,
/// or accepts a payload that turns back into a dense tensor without any exception. Shared by the fast test subset and
/// the 100k-case benchmark run.
/// </summary>
public static class PayloadFuzzer
{
    /// <summary>One valid payload per codec (and dtype), from small seeded vectors.</summary>
    public static IReadOnlyList<byte[]> SamplePayloads(int seed = 1)
    {
        var layout = new ParameterLayout([("w", [4, 6], 0, 24), ("b", [4], 24, 4), ("c", [2, 3, 2], 28, 12)]);
        var ctx = new CompressionContext(3, 7, layout);
        var result = new List<byte[]>();
        foreach (var dtype in new[] { torch.ScalarType.Float32, torch.ScalarType.Float64 })
        {
            using var generator = Util.TorchSetup.Generator((ulong)seed);
            using var x = torch.randn(40, generator: generator, dtype: dtype);
            foreach (var settings in new[]
            {
                new CompressionSettings("none"), new CompressionSettings("topk", Ratio: 0.2),
                new CompressionSettings("randk", Ratio: 0.2), new CompressionSettings("random-block", Ratio: 0.3),
                new CompressionSettings("qsgd", Levels: 4), new CompressionSettings("qsgd", Levels: 300),
                new CompressionSettings("sign"), new CompressionSettings("powersgd", Rank: 1),
            })
            {
                var compressor = Compressors.Create(settings, seed);
                using (var c = compressor.Compress(x, ctx)) result.Add(TensorPayload.FromCompressed(c).Encode());
                (compressor as IDisposable)?.Dispose();
            }
            using var pruned = x.clamp_min(0); // about half exact zeros: what the sparse (mask + values) format is for
            using (var c = new MaskedSparse().Compress(pruned, ctx)) result.Add(TensorPayload.FromCompressed(c).Encode());
        }
        return result;
    }

    /// <summary>A corrupted copy of <paramref name="valid"/>.</summary>
    public static byte[] Corrupt(byte[] valid, Random rng)
    {
        ArgumentNullException.ThrowIfNull(valid);
        ArgumentNullException.ThrowIfNull(rng);
        var b = (byte[])valid.Clone();
        int header = Math.Min(b.Length, 160);
        switch (rng.Next(8))
        {
            case 0: // bit flips anywhere
                for (int i = rng.Next(1, 4); i > 0 && b.Length > 0; i--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1: // bit flips in the header
                for (int i = rng.Next(1, 3); i > 0 && header > 0; i--) b[rng.Next(header)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 2: // truncation
                return b[..rng.Next(b.Length)];
            case 3: // extension
                var longer = new byte[b.Length + rng.Next(1, 17)];
                b.CopyTo(longer, 0);
                for (int i = b.Length; i < longer.Length; i++) longer[i] = (byte)rng.Next(256);
                return longer;
            case 4: // a lying 64-bit field (dims, lengths, seed, scalars) somewhere in the header
                if (header >= 8)
                {
                    long[] edges = [-1, 0, 1, 2, 7, 8, long.MaxValue, long.MinValue, int.MaxValue, (long)int.MaxValue + 1, 1L << 40, rng.Next(1000)];
                    int at = rng.Next(header - 7);
                    long value = rng.Next(4) == 0 ? BitConverter.DoubleToInt64Bits(rng.Next(3) switch { 0 => double.NaN, 1 => double.PositiveInfinity, _ => -1.5 }) : edges[rng.Next(edges.Length)];
                    BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at), value);
                }
                return b;
            case 5: // a lying byte field (version, codec, dtype, ranks, counts)
                if (header > 0) b[rng.Next(Math.Min(header, 64))] = (byte)(rng.Next(2) == 0 ? rng.Next(256) : rng.Next(10));
                return b;
            case 6: // random bytes spliced over a span
                if (b.Length > 0)
                {
                    int start = rng.Next(b.Length), len = rng.Next(1, Math.Min(32, b.Length - start) + 1);
                    for (int i = start; i < start + len; i++) b[i] = (byte)rng.Next(256);
                }
                return b;
            default: // pure noise of a plausible length
                var noise = new byte[rng.Next(0, 96)];
                rng.NextBytes(noise);
                if (noise.Length > 0 && rng.Next(2) == 0) noise[0] = PayloadFormat.Version;
                return noise;
        }
    }

    /// <summary>
    /// Runs <paramref name="cases"/> corruptions of <paramref name="valid"/> payloads. Throws
    /// <see cref="InvalidOperationException"/> (with the offending bytes in hex) when anything other than a
    /// <see cref="SerializationException"/> escapes decoding, or when an accepted payload fails to decompress.
    /// </summary>
    public static FuzzResult Run(IReadOnlyList<byte[]> valid, int cases, int seed)
    {
        ArgumentNullException.ThrowIfNull(valid);
        var rng = new Random(seed);
        int rejected = 0, accepted = 0;
        for (int i = 0; i < cases; i++)
        {
            var bytes = Corrupt(valid[rng.Next(valid.Count)], rng);
            TensorPayload payload;
            try
            {
                payload = TensorPayload.Decode(bytes, maxElements: 1 << 20);
            }
            catch (SerializationException)
            {
                rejected++;
                continue;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"case {i}: {e.GetType().Name} escaped Decode for {Convert.ToHexString(bytes)}", e);
            }
            try
            {
                using var scope = torch.NewDisposeScope();
                using var dense = payload.ToTensor();
                if (dense.numel() != payload.Numel) throw new InvalidOperationException("wrong size");
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"case {i}: accepted payload failed to decompress: {Convert.ToHexString(bytes)}", e);
            }
            accepted++;
        }
        return new FuzzResult(cases, rejected, accepted);
    }
}

using System.Buffers.Binary;
using System.Runtime.Serialization;
using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Learning.Wire;
using TorchSharp;

namespace Actors.Learning.Tests.Compression;

public class TensorPayloadSpec
{
    private static readonly ParameterLayout Layout = new([("w", [6, 5], 0, 30), ("b", [6], 30, 6), ("v", [4, 1], 36, 4)]);

    public static TheoryData<string, bool> Codecs()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in Compressors.Names)
            foreach (var f64 in new[] { false, true }) data.Add(name, f64);
        return data;
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Payload_round_trips_every_codec_bit_for_bit_and_knows_its_size(string type, bool float64)
    {
        var dtype = float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
        using var g = new torch.Generator(4);
        using var x = torch.randn(40, generator: g, dtype: dtype);
        var compressor = Compressors.Create(type, new Dictionary<string, string> { ["ratio"] = "0.2", ["rank"] = "2" }, seed: 8);
        using var c = compressor.Compress(x, new CompressionContext(2, 9, Layout));
        var payload = TensorPayload.FromCompressed(c);
        var bytes = payload.Encode();
        Assert.Equal(bytes.Length, payload.SizeBytes);
        Assert.Equal(bytes.Length, TensorPayload.SizeOf(c));

        var decoded = TensorPayload.Decode((byte[])bytes.Clone(), maxElements: 40, allowNonFiniteValues: false);
        Assert.Equal(type, decoded.Codec);
        Assert.Equal(dtype, decoded.DType);
        Assert.Equal(c.Seed, decoded.Seed);
        using var back = decoded.ToCompressed();
        Assert.Equal(c.Scalars, back.Scalars);
        for (int i = 0; i < c.Parts.Count; i++)
        {
            Assert.Equal(c.Parts[i].shape, back.Parts[i].shape);
            Assert.Equal(c.Parts[i].dtype, back.Parts[i].dtype);
            Assert.True(c.Parts[i].equal(back.Parts[i]).all().item<bool>());
        }
        using var expected = compressor.Decompress(c);
        using var actual = decoded.ToTensor();
        Assert.True(expected.equal(actual).all().item<bool>());
        // Decompressing neither disposes nor mutates the message's parts.
        using var again = compressor.Decompress(c);
        Assert.True(expected.equal(again).all().item<bool>());
        (compressor as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("none")]
    [InlineData("topk")]
    [InlineData("randk")]
    [InlineData("random-block")]
    [InlineData("qsgd")]
    [InlineData("sign")]
    public void Empty_vectors_round_trip(string type)
    {
        using var x = torch.empty(0);
        var compressor = Compressors.Create(type, seed: 1);
        using var c = compressor.Compress(x, new CompressionContext(0, 1));
        using var back = TensorPayload.Decode(TensorPayload.FromCompressed(c).Encode()).ToTensor();
        Assert.Equal(0, back.numel());
        (compressor as IDisposable)?.Dispose();
    }

    [Fact]
    public void Uncompressed_payload_costs_header_plus_four_bytes_a_float()
    {
        using var x = torch.ones(1000);
        var payload = TensorPayload.FromTensor(x);
        // 16 fixed + 8 (one dim) + part header 2 + 8 (dim) + 8 (length) = 42 bytes of header.
        Assert.Equal(42 + 4000, payload.SizeBytes);
        Assert.Equal(payload.SizeBytes, TensorPayload.UncompressedSizeBytes(1000));
        Assert.Equal(42 + 8000, TensorPayload.UncompressedSizeBytes(1000, torch.ScalarType.Float64));
    }

    [Fact]
    public void Uncompressed_payload_keeps_the_shape_of_a_matrix()
    {
        using var x = torch.arange(6, dtype: torch.ScalarType.Float64).reshape(2, 3);
        var decoded = TensorPayload.Decode(TensorPayload.FromTensor(x).Encode());
        Assert.Equal(new long[] { 2, 3 }, decoded.Shape);
        using var back = decoded.ToTensor();
        Assert.True(back.equal(x).all().item<bool>());
    }

    [Fact]
    public void Compressed_sizes_are_what_the_codecs_promise()
    {
        using var x = torch.randn(10_000, generator: new torch.Generator(1));
        int Size(string type, Dictionary<string, string>? s = null)
        {
            var c = Compressors.Create(type, s, seed: 1);
            using var m = c.Compress(x, new CompressionContext(0, 1));
            return TensorPayload.SizeOf(m);
        }
        var onePercent = new Dictionary<string, string> { ["ratio"] = "0.01" };
        Assert.Equal(24 + 18 + 400 + 18 + 400, Size("topk", onePercent)); // 100 floats + 100 int32 indices
        Assert.Equal(24 + 18 + 400, Size("randk", onePercent));             // values only
        Assert.Equal(24 + 18 + 400 + 18 + 16, Size("random-block", onePercent)); // values + one (d, k) pair
        Assert.Equal(24 + 16 + 18 + 10_000, Size("qsgd"));                 // norm, s, one int8 level each
        Assert.Equal(24 + 8 + 18 + 1250, Size("sign"));                    // scale, one bit each
    }

    private static byte[] Valid(string type = "topk")
    {
        using var x = torch.tensor(new[] { 1f, -2f, 3f, 4f, -5f, 6f, 0.5f, 7f });
        var c = Compressors.Create(type, new Dictionary<string, string> { ["ratio"] = "0.25" }, seed: 1);
        using var m = c.Compress(x, new CompressionContext(0, 1));
        return TensorPayload.FromCompressed(m).Encode();
    }

    private static void Rejects(byte[] bytes, string because, long maxElements = PayloadFormat.MaxElements, bool allowNonFinite = true)
    {
        var e = Assert.Throws<SerializationException>(() => TensorPayload.Decode(bytes, maxElements, allowNonFinite));
        Assert.Contains(because, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_rejects_short_buffers_and_trailing_bytes()
    {
        var b = Valid();
        Rejects([], "header");
        Rejects(b[..10], "header");
        Rejects(b[..^1], "announces");
        Rejects([.. b, 0], "announces");
    }

    [Fact]
    public void Decode_rejects_unknown_version_codec_and_dtype()
    {
        var b = Valid();
        var v = (byte[])b.Clone(); v[0] = 9; Rejects(v, "version");
        var c = (byte[])b.Clone(); c[1] = 200; Rejects(c, "codec");
        var d = (byte[])b.Clone(); d[2] = 77; Rejects(d, "dtype");
        var i = (byte[])b.Clone(); i[2] = 3; Rejects(i, "float32 or float64");
    }

    [Fact]
    public void Decode_rejects_lying_lengths_and_dims()
    {
        var b = Valid();
        // Header: 16 fixed, 8 for the single dim (8). Part 0 header at 24: dtype, rank, dim (8 bytes), length (8 bytes).
        var lying = (byte[])b.Clone(); BinaryPrimitives.WriteInt64LittleEndian(lying.AsSpan(34), 9999); Rejects(lying, "does not match");
        var negative = (byte[])b.Clone(); BinaryPrimitives.WriteInt64LittleEndian(negative.AsSpan(16), -1); Rejects(negative, "dimension -1");
        var huge = (byte[])b.Clone(); BinaryPrimitives.WriteInt64LittleEndian(huge.AsSpan(16), long.MaxValue); Rejects(huge, "dimension");
        var bigButLegal = (byte[])b.Clone(); BinaryPrimitives.WriteInt64LittleEndian(bigButLegal.AsSpan(16), 1 << 30); Rejects(bigButLegal, "dimension", maxElements: 1000);
        var partDim = (byte[])b.Clone(); BinaryPrimitives.WriteInt64LittleEndian(partDim.AsSpan(26), 3); Rejects(partDim, "does not match");
    }

    [Fact]
    public void Decode_rejects_shape_and_index_mismatches()
    {
        var b = Valid();
        // Index part data are the last 8 bytes (two int32 indices).
        var outOfRange = (byte[])b.Clone(); BinaryPrimitives.WriteInt32LittleEndian(outOfRange.AsSpan(b.Length - 4), 8); Rejects(outOfRange, "index 8");
        var negative = (byte[])b.Clone(); BinaryPrimitives.WriteInt32LittleEndian(negative.AsSpan(b.Length - 4), -1); Rejects(negative, "index -1");
        var shrunk = (byte[])b.Clone(); BinaryPrimitives.WriteInt64LittleEndian(shrunk.AsSpan(16), 1); Rejects(shrunk, "values for a tensor of 1");
        var none = Valid("none");
        var wrong = (byte[])none.Clone(); BinaryPrimitives.WriteInt64LittleEndian(wrong.AsSpan(16), 7); Rejects(wrong, "8 values for a tensor of 7");
    }

    [Fact]
    public void Decode_rejects_non_finite_scalars_always_and_values_when_asked()
    {
        var q = Valid("qsgd");
        var nanNorm = (byte[])q.Clone(); BinaryPrimitives.WriteDoubleLittleEndian(nanNorm.AsSpan(24), double.NaN); Rejects(nanNorm, "not finite");
        var hugeNorm = (byte[])q.Clone(); BinaryPrimitives.WriteDoubleLittleEndian(hugeNorm.AsSpan(24), 1e300); Rejects(hugeNorm, "does not fit in float32");
        // Found by the 100k fuzz run: a finite scale beyond float32 made torch.full throw on decompress.
        var sign = Valid("sign");
        var hugeScale = (byte[])sign.Clone(); BinaryPrimitives.WriteDoubleLittleEndian(hugeScale.AsSpan(24), 1e300); Rejects(hugeScale, "does not fit in float32");
        var badLevels = (byte[])q.Clone(); BinaryPrimitives.WriteDoubleLittleEndian(badLevels.AsSpan(32), 2.5); Rejects(badLevels, "levels");

        using var x = torch.tensor(new[] { 1f, float.NaN });
        var withNaN = TensorPayload.FromTensor(x).Encode();
        Assert.Equal(2, TensorPayload.Decode(withNaN).Numel); // the aggregator counts it as non_finite
        Rejects(withNaN, "non-finite", allowNonFinite: false);
    }

    [Fact]
    public void Decode_is_a_zero_copy_view_of_the_buffer()
    {
        var b = Valid("none");
        var p = TensorPayload.Decode(b);
        Assert.Same(b, p.Encode());
        Assert.Equal(32, p.PartBytes(0).Length);
    }

    [Fact]
    public void Fuzzed_payloads_are_rejected_with_SerializationException_or_decode_cleanly()
    {
        var result = PayloadFuzzer.Run(PayloadFuzzer.SamplePayloads(), cases: 3000, seed: 12345);
        Assert.Equal(3000, result.Rejected + result.Accepted);
        Assert.True(result.Rejected > 2000, $"only {result.Rejected} rejected");
    }
}

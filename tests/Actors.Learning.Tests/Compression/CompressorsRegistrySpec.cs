using Actors.Learning.Compression;

namespace Actors.Learning.Tests.Compression;

public class CompressorsRegistrySpec
{
    [Theory]
    [InlineData("none", typeof(Identity))]
    [InlineData("topk", typeof(TopK))]
    [InlineData("sparse", typeof(MaskedSparse))]
    [InlineData("randk", typeof(RandK))]
    [InlineData("random-block", typeof(RandomBlockSparsifier))]
    [InlineData("qsgd", typeof(Qsgd))]
    [InlineData("sign", typeof(ScaledSign))]
    [InlineData("powersgd", typeof(PowerSgd))]
    public void Registry_maps_config_names_to_compressors(string type, Type expected)
    {
        var c = Compressors.Create(type);
        Assert.IsType(expected, c);
        Assert.Equal(type, c.Name);
        (c as IDisposable)?.Dispose();
    }

    [Fact]
    public void Wire_ids_are_the_ones_payloads_already_carry_and_every_codec_has_all_its_parts()
    {
        // Payloads on the wire and in checkpoints carry these ids: a new codec appends one, none is ever renumbered.
        Assert.Equal(new (string, byte)[] { ("none", 1), ("topk", 2), ("randk", 3), ("random-block", 4), ("qsgd", 5), ("sign", 6), ("powersgd", 7), ("sparse", 8) },
            Codecs.All.Select(c => (c.Name, c.WireId)).ToArray());
        Assert.Equal(Codecs.All.Count, Codecs.All.Select(c => c.WireId).Distinct().Count());
        foreach (var c in Codecs.All)
        {
            Assert.True(Wire.PayloadFormat.TryCodecName(c.WireId, out var name) && name == c.Name);
            Assert.NotNull(c.Create);
            Assert.NotNull(c.Reconstruct);
            Assert.NotNull(c.Check);
        }
    }

    [Fact]
    public void Registry_applies_settings()
    {
        var randk = Assert.IsType<RandK>(Compressors.Create("randk", new Dictionary<string, string> { ["ratio"] = "0.05", ["scaling"] = "contractive" }));
        Assert.Equal(0.05, randk.Ratio);
        Assert.Equal(RandKScaling.Contractive, randk.Scaling);
        using var p = Assert.IsType<PowerSgd>(Compressors.Create("powersgd", new Dictionary<string, string> { ["rank"] = "3" }));
        Assert.Equal(3, p.Rank);
        using var q = Assert.IsType<Qsgd>(Compressors.Create("qsgd", new Dictionary<string, string> { ["levels"] = "8" }));
        Assert.Equal(8, q.Levels);
        using var ef = Assert.IsType<ErrorFeedback>(Compressors.Create("topk", new Dictionary<string, string> { ["error-feedback"] = "on" }));
        Assert.IsType<TopK>(ef.Inner);
    }

    [Fact]
    public void Settings_parse_every_key_of_the_compression_block()
    {
        var s = CompressionSettings.Parse(new Dictionary<string, string>
        {
            ["type"] = "random-block", ["ratio"] = "0.01", ["rank"] = "4", ["levels"] = "8",
            ["scaling"] = "contractive", ["error-feedback"] = "on", ["compress-broadcast"] = "off", ["block"] = "rank",
        });
        Assert.Equal(new CompressionSettings("random-block", 0.01, 4, 8, RandKScaling.Contractive, ErrorFeedback: true, CompressBroadcast: false, RandomBlockSize.Rank), s);
        Assert.Equal(4, ((RandomBlockSparsifier)((ErrorFeedback)Compressors.Create(s, 1)).Inner).Rank);
    }

    [Theory]
    [InlineData("type", "zip", "topk")]
    [InlineData("ratio", "0", "(0, 1]")]
    [InlineData("block", "square", "ratio | rank")]
    [InlineData("ratio", "1.5", "(0, 1]")]
    [InlineData("ratio", "abc", "(0, 1]")]
    [InlineData("rank", "0", ">= 1")]
    [InlineData("levels", "70000", "[1, 32767]")]
    [InlineData("scaling", "biased", "unbiased | contractive")]
    [InlineData("error-feedback", "maybe", "on | off")]
    [InlineData("compress-broadcast", "2", "on | off")]
    public void Registry_rejects_bad_values_naming_key_value_and_choices(string key, string value, string choices)
    {
        var settings = new Dictionary<string, string> { [key] = value };
        var type = key == "type" ? value : "topk";
        settings.Remove("type");
        var e = Assert.Throws<ArgumentException>(() => Compressors.Create(type, settings));
        Assert.Contains($"compression.{key}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(choices, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_rejects_unknown_keys()
    {
        var e = Assert.Throws<ArgumentException>(() => Compressors.Create("topk", new Dictionary<string, string> { ["ratoi"] = "0.1" }));
        Assert.Contains("ratoi", e.Message, StringComparison.Ordinal);
        Assert.Contains("ratio", e.Message, StringComparison.Ordinal);
    }
}

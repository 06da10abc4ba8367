using System.Globalization;
using TorchSharp;

namespace Actors.Learning.Compression;

/// <summary>
/// The `compression { ... }` settings of an experiment, validated. <see cref="CompressBroadcast"/> is for the runtime
/// (whether the server's model broadcast is compressed too); the rest builds the compressor.
/// </summary>
public sealed record CompressionSettings(
    string Type = Identity.CodecName,
    double Ratio = 0.01,
    int Rank = 2,
    int Levels = 16,
    RandKScaling Scaling = RandKScaling.Unbiased,
    bool ErrorFeedback = false,
    bool CompressBroadcast = false,
    RandomBlockSize Block = RandomBlockSize.Ratio)
{
    /// <summary>Keys a `compression` block may hold.</summary>
    public static readonly IReadOnlyList<string> Keys = ["type", "ratio", "rank", "levels", "scaling", "error-feedback", "compress-broadcast", "block"];

    /// <summary>Parses the keys of a `compression` block (values as strings, as HOCON gives them).</summary>
    public static CompressionSettings Parse(IReadOnlyDictionary<string, string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys.Keys)
            if (!Keys.Contains(key))
                throw new ArgumentException($"compression: unknown key '{key}'; valid keys: {string.Join(", ", Keys)}", nameof(keys));
        var s = new CompressionSettings();
        if (keys.TryGetValue("type", out var type))
        {
            if (!Compressors.Names.Contains(type))
                throw Bad("type", type, string.Join(" | ", Compressors.Names));
            s = s with { Type = type };
        }
        if (keys.TryGetValue("ratio", out var ratio))
        {
            if (!double.TryParse(ratio, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || !(r > 0 && r <= 1))
                throw Bad("ratio", ratio, "a number in (0, 1], e.g. 0.01 for 1%");
            s = s with { Ratio = r };
        }
        if (keys.TryGetValue("rank", out var rank))
        {
            if (!int.TryParse(rank, NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) || r < 1)
                throw Bad("rank", rank, "an integer >= 1");
            s = s with { Rank = r };
        }
        if (keys.TryGetValue("levels", out var levels))
        {
            if (!int.TryParse(levels, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) || l < 1 || l > Qsgd.MaxLevels)
                throw Bad("levels", levels, $"an integer in [1, {Qsgd.MaxLevels}]");
            s = s with { Levels = l };
        }
        if (keys.TryGetValue("scaling", out var scaling)) s = s with { Scaling = ParseScaling(scaling) };
        if (keys.TryGetValue("block", out var block)) s = s with { Block = ParseBlock(block) };
        if (keys.TryGetValue("error-feedback", out var ef)) s = s with { ErrorFeedback = OnOff("error-feedback", ef) };
        if (keys.TryGetValue("compress-broadcast", out var cb)) s = s with { CompressBroadcast = OnOff("compress-broadcast", cb) };
        return s;
    }

    /// <summary>`compression.scaling`: unbiased | contractive.</summary>
    public static RandKScaling ParseScaling(string value) => value switch
    {
        "unbiased" => RandKScaling.Unbiased,
        "contractive" => RandKScaling.Contractive,
        _ => throw Bad("scaling", value, "unbiased | contractive"),
    };

    /// <summary>`compression.block`: ratio | rank.</summary>
    public static RandomBlockSize ParseBlock(string value) => value switch
    {
        "ratio" => RandomBlockSize.Ratio,
        "rank" => RandomBlockSize.Rank,
        _ => throw Bad("block", value, "ratio | rank"),
    };

    private static bool OnOff(string key, string value) => value switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => throw Bad(key, value, "on | off"),
    };

    private static ArgumentException Bad(string key, string value, string valid) =>
        new($"compression.{key} = '{value}' is invalid (valid: {valid})");
}

/// <summary>Builds compressors from settings (the codecs themselves are listed in <see cref="Codecs"/>).</summary>
public static class Compressors
{
    public static IReadOnlyList<string> Names => Codecs.Names;

    /// <summary>
    /// Builds the compressor the settings describe, wrapped in <see cref="ErrorFeedback"/> when asked.
    /// <paramref name="seed"/> seeds this instance's private randomness (QSGD rounding): derive it per actor.
    /// Shared choices (rand-k indices, block starts, PowerSGD's first Q) come from <see cref="CompressionContext.SharedSeed"/>.
    /// Stateful results implement <see cref="IDisposable"/>.
    /// </summary>
    public static ICompressor Create(CompressionSettings settings, long seed)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!(settings.Ratio > 0 && settings.Ratio <= 1))
            throw new ArgumentException($"compression.ratio = {settings.Ratio.ToString(CultureInfo.InvariantCulture)} is invalid (valid: a number in (0, 1], e.g. 0.01 for 1%)", nameof(settings));
        if (settings.Rank < 1)
            throw new ArgumentException($"compression.rank = {settings.Rank} is invalid (valid: an integer >= 1)", nameof(settings));
        if (settings.Levels < 1 || settings.Levels > Qsgd.MaxLevels)
            throw new ArgumentException($"compression.levels = {settings.Levels} is invalid (valid: an integer in [1, {Qsgd.MaxLevels}])", nameof(settings));
        var inner = Codecs.Get(settings.Type).Create(settings, seed);
        return settings.ErrorFeedback ? new ErrorFeedback(inner) : inner;
    }

    /// <summary>Builds a compressor from config strings, e.g. Create("topk", {"ratio": "0.01", "error-feedback": "on"}).</summary>
    public static ICompressor Create(string type, IReadOnlyDictionary<string, string>? settings = null, long seed = 0)
    {
        var keys = new Dictionary<string, string>(settings ?? new Dictionary<string, string>()) { ["type"] = type };
        return Create(CompressionSettings.Parse(keys), seed);
    }

    /// <summary>Decompresses any message by its codec (<see cref="Codecs.Decompress"/>).</summary>
    public static torch.Tensor Decompress(CompressedTensor compressed) => Codecs.Decompress(compressed);
}

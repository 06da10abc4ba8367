using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Runtime.Experiments;
using TorchSharp;

namespace Actors.Runtime.Engine;

/// <summary>
/// What a compressor costs on the virtual clock (`timing.compression-cost`): encoding is charged to the sender (after its
/// compute, before it sends), decoding to the receiver (the message is usable that much after it arrives). Both scale with
/// the values a message carries: <see cref="EncodeNsPerValue"/> x values. Uncompressed messages cost nothing.
/// </summary>
/// <param name="Source">measured, fixed or none: where the figures come from.</param>
public sealed record CompressionCost(string Codec, double EncodeNsPerValue, double DecodeNsPerValue, string Source)
{
    public static readonly CompressionCost None = new(Identity.CodecName, 0, 0, "none");

    public bool IsFree => EncodeNsPerValue == 0 && DecodeNsPerValue == 0;

    public TimeSpan Encode(long values) => Ns(EncodeNsPerValue * values);

    public TimeSpan Decode(long values) => Ns(DecodeNsPerValue * values);

    private static TimeSpan Ns(double ns) => TimeSpan.FromTicks((long)Math.Round(ns / 100.0)); // 1 tick = 100 ns

    /// <summary>
    /// The run's figures: none for simulation-free modes, uncompressed runs and <c>none</c>; the configured ones for <c>fixed</c>;
    /// timed here for <c>measured</c> (on a vector of <paramref name="layout"/>'s size, the run's message size).
    /// </summary>
    public static CompressionCost For(ExperimentSpec spec, ParameterLayout layout, ulong sharedSeed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Timing.CompressionCost;
        if (!spec.IsSimulation || spec.Compression.Type == Identity.CodecName || s.Mode == "none") return None;
        return s.Mode == "fixed"
            ? new CompressionCost(spec.Compression.Type, s.EncodeNs, s.DecodeNs, "fixed")
            : Measured.GetOrAdd((spec.Compression, layout.Size), _ => Measure(spec.Compression, layout, sharedSeed));
    }

    /// <summary>
    /// Measured once per process for each compressor setting and message size: the cells of a sweep that differ only in
    /// bandwidth or seed are charged the same figures, so their times compare (and the machine is timed once, not per cell).
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(CompressionSettings, long), CompressionCost> Measured = new();

    /// <summary>
    /// Times one fresh compressor (error feedback included when the settings use it) encoding and decoding a Gaussian vector of
    /// the layout's size: two warm-up rounds, then the fastest of <paramref name="repetitions"/>, per value (the fastest, not the
    /// median: other work on the machine only ever adds time, and the cost charged should be the codec's, not the neighbours').
    /// On this machine, at the time it runs: the figures still vary a little between runs, which is why they are recorded.
    /// </summary>
    public static CompressionCost Measure(CompressionSettings settings, ParameterLayout layout, ulong sharedSeed, int repetitions = 7)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(layout);
        if (settings.Type == Identity.CodecName) return None;
        var compressor = Compressors.Create(settings, 12345);
        try
        {
            using var scope = torch.NewDisposeScope();
            using var generator = Learning.Util.TorchSetup.Generator(7);
            var vector = torch.randn(layout.Size, generator: generator);
            var encode = new List<double>();
            var decode = new List<double>();
            for (int rep = 0; rep < repetitions + 2; rep++)
            {
                using var inner = torch.NewDisposeScope();
                var clock = Stopwatch.StartNew();
                using var compressed = compressor.Compress(vector, new CompressionContext(rep, sharedSeed, layout));
                double e = clock.Elapsed.TotalNanoseconds;
                clock.Restart();
                using var restored = Codecs.Decompress(compressed);
                double d = clock.Elapsed.TotalNanoseconds;
                if (rep < 2) continue; // warm-up: first-call allocation and JIT
                encode.Add(e);
                decode.Add(d);
            }
            // Rounded as recorded, so a replay with the recorded figures (fixed) charges exactly the same times.
            return new CompressionCost(settings.Type, Math.Round(encode.Min() / layout.Size, 4), Math.Round(decode.Min() / layout.Size, 4), "measured");
        }
        finally
        {
            (compressor as IDisposable)?.Dispose();
        }
    }

    /// <summary>The record written to the run directory (compression-cost.json, and summary.json's compression_cost).</summary>
    public JsonObject ToJson(long values) => new()
    {
        ["source"] = Source,
        ["codec"] = Codec,
        ["values_per_message"] = values,
        ["encode_ns_per_value"] = EncodeNsPerValue,
        ["decode_ns_per_value"] = DecodeNsPerValue,
        ["encode_ms_per_message"] = Math.Round(Encode(values).TotalMilliseconds, 4),
        ["decode_ms_per_message"] = Math.Round(Decode(values).TotalMilliseconds, 4),
        ["replay"] = string.Create(CultureInfo.InvariantCulture,
            $"--set timing.compression-cost=fixed --set timing.compression-encode-ns={EncodeNsPerValue:R} --set timing.compression-decode-ns={DecodeNsPerValue:R}"),
    };
}

using System.Text.Json.Nodes;
using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Runtime.Engine;
using Actors.Runtime.Tests.Running;

namespace Actors.Runtime.Tests.Simulation;

/// <summary>
/// `timing.compression-cost`: a compressor's encode and decode time on the virtual clock (issue 24). The charge is the
/// per-value figure times the message's values; measured figures are recorded and replay exactly; `none` is the old clock.
/// </summary>
public sealed class CompressionCostSpec
{
    private static ParameterLayout Layout(long d) => new([("w", [d], 0, d)]);

    [Theory]
    [InlineData("topk")]
    [InlineData("randk")]
    [InlineData("random-block")]
    [InlineData("qsgd")]
    [InlineData("sign")]
    [InlineData("powersgd")]
    public void Each_codec_is_charged_its_measured_cost_per_value_times_the_tensor_size(string codec)
    {
        // Matrix-shaped for PowerSGD (it compresses 2-D tensors); 100x more values in the big one.
        var small = new ParameterLayout([("w", [40, 50], 0, 2_000)]);
        var big = new ParameterLayout([("w", [400, 500], 0, 200_000)]);
        var settings = new CompressionSettings(Type: codec, Ratio: 0.01, Rank: 2);
        var atSmall = CompressionCost.Measure(settings, small, 1);
        var atBig = CompressionCost.Measure(settings, big, 1);
        foreach (var c in new[] { atSmall, atBig })
        {
            Assert.Equal(codec, c.Codec);
            Assert.Equal("measured", c.Source);
            Assert.True(c.EncodeNsPerValue > 0 && double.IsFinite(c.EncodeNsPerValue), $"{codec}: encode {c.EncodeNsPerValue} ns/value");
            Assert.True(c.DecodeNsPerValue > 0 && double.IsFinite(c.DecodeNsPerValue), $"{codec}: decode {c.DecodeNsPerValue} ns/value");
        }
        // What the clock is charged is the figure times the size, exactly (to the 100 ns tick)...
        Assert.Equal(Math.Round(atBig.EncodeNsPerValue * 200_000 / 100), atBig.Encode(200_000).Ticks);
        Assert.Equal(Math.Round(atBig.DecodeNsPerValue * 200_000 / 100), atBig.Decode(200_000).Ticks);
        Assert.Equal(atBig.Encode(100_000).Ticks * 2, atBig.Encode(200_000).Ticks, 1.0);
        // ...and the measured work grows with the tensor: 100x the values cost more in total, encode and decode alike.
        Assert.True(atBig.Encode(200_000) > atSmall.Encode(2_000), $"{codec}: {atBig.Encode(200_000)} at 200k vs {atSmall.Encode(2_000)} at 2k");
        Assert.True(atBig.Decode(200_000) > atSmall.Decode(2_000), $"{codec}: {atBig.Decode(200_000)} at 200k vs {atSmall.Decode(2_000)} at 2k");
    }

    [Fact]
    public void Uncompressed_runs_and_none_cost_nothing()
    {
        Assert.True(CompressionCost.Measure(new CompressionSettings(), Layout(1000), 1).IsFree);
        var spec = Actors.Runtime.Running.ExperimentKinds.Load(null, ["compression.type=topk", "timing.compression-cost=none"]);
        Assert.True(CompressionCost.For(spec, Layout(1000), 1).IsFree);
        var fixedSpec = Actors.Runtime.Running.ExperimentKinds.Load(null, ["compression.type=topk", "timing.compression-cost=fixed", "timing.compression-encode-ns=2.5", "timing.compression-decode-ns=0.5"]);
        Assert.Equal(new CompressionCost("topk", 2.5, 0.5, "fixed"), CompressionCost.For(fixedSpec, Layout(1000), 1));
        var realtime = Actors.Runtime.Running.ExperimentKinds.Load(null, ["compression.type=topk", "experiment.mode=realtime"]);
        Assert.True(CompressionCost.For(realtime, Layout(1000), 1).IsFree); // there encoding takes real time
    }

    /// <summary>
    /// Sync rounds without jitter: each round's critical path grows by exactly encode + decode of one message, so the virtual
    /// time grows by steps x (encode + decode) x values; the learning is the same, and the time is booked as compressing.
    /// </summary>
    [Fact]
    public async Task The_charge_lands_on_the_virtual_clock_and_in_the_time_shares()
    {
        string[] common = ["compression.type=topk", "compression.ratio=0.1", "timing.compute-jitter=0", "experiment.steps=20", "experiment.eval-every=10"];
        var (freeDir, free) = await RunHelper.Run([.. common, "timing.compression-cost=none"]);
        var (paidDir, paid) = await RunHelper.Run([.. common, "timing.compression-cost=fixed", "timing.compression-encode-ns=100", "timing.compression-decode-ns=50"]);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(paidDir, "compression-cost.json")))!.AsObject();
        long values = record["values_per_message"]!.GetValue<long>();
        Assert.Equal(784 * 10 + 10, values); // logreg on the synthetic set: 784 features x 10 classes + biases
        double perRound = (100 + 50) * values / 1e9;
        Assert.Equal(free.D("virtual_time_s") + 20 * perRound, paid.D("virtual_time_s"), 6);
        Assert.Equal(Column(freeDir, 2), Column(paidDir, 2)); // test accuracy: the same learning
        Assert.Null(free["time_shares"]); // none: summary.json as before
        Assert.False(File.Exists(Path.Combine(freeDir, "compression-cost.json")));
        Assert.Equal(20 * 10 * perRound, paid.D("time_compress_s"), 6); // 10 workers' messages, each encoded and decoded
        Assert.True(paid.D("time_compute_s") > 0 && paid.D("time_communicate_s") > 0);
        var shares = paid["time_shares"]!.AsObject();
        Assert.Equal(1.0, shares.D("compute") + shares.D("compress") + shares.D("communicate"), 5);
        Assert.Equal("fixed", record["source"]!.GetValue<string>());
    }

    /// <summary>A measured run records its figures; rerunning with them (fixed) reproduces metrics.csv bit for bit.</summary>
    [Fact]
    public async Task A_measured_run_replays_exactly_from_its_recorded_figures()
    {
        string[] common = ["compression.type=qsgd", "timing.mode=async", "experiment.steps=60", "experiment.eval-every=20"];
        var (measuredDir, measured) = await RunHelper.Run([.. common, "timing.compression-cost=measured"]);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(measuredDir, "compression-cost.json")))!.AsObject();
        Assert.Equal("measured", record["source"]!.GetValue<string>());
        Assert.Equal(record.ToJsonString(), measured["compression_cost"]!.ToJsonString());
        string[] replay = [.. record["replay"]!.GetValue<string>().Split(' ').Where(a => a != "--set")];
        var (replayDir, _) = await RunHelper.Run([.. common, .. replay]);
        Assert.Equal(File.ReadAllText(Path.Combine(measuredDir, "metrics.csv")), File.ReadAllText(Path.Combine(replayDir, "metrics.csv")));
    }

    /// <summary>QSGD cannot quantize a non-finite vector: a diverging run still ends as a diverged result (the sweep found this).</summary>
    [Fact]
    public async Task A_run_that_diverges_through_a_codec_that_cannot_encode_it_is_a_diverged_result()
    {
        var (_, summary) = await RunHelper.Run("model.type=mlp", "compression.type=qsgd", "compression.levels=1", "compression.error-feedback=on", "optimizer.lr=1e20",
            "experiment.steps=30", "experiment.eval-every=10");
        Assert.True(summary["diverged"]!.GetValue<bool>(), Actors.Runtime.Output.RunDirectory.ToJson(summary));
        Assert.True(summary["updates_dropped"]!["non_finite"]!.GetValue<long>() > 0, Actors.Runtime.Output.RunDirectory.ToJson(summary));
    }

    /// <summary>A diverged worker's vector (or its error-feedback memory plus its gradient) is not finite: the codec sends NaN, not an exception.</summary>
    [Theory]
    [InlineData("qsgd")]
    [InlineData("sign")]
    public void A_codec_that_cannot_encode_its_input_sends_a_non_finite_update(string codec)
    {
        using var updateCodec = new UpdateCodec(Compressors.Create(new CompressionSettings(Type: codec, ErrorFeedback: true), 1), Layout(100), 1);
        using var diverged = TorchSharp.torch.full(100, float.PositiveInfinity);
        var payload = updateCodec.Encode(diverged, 0); // no norm or scale to send
        using var decoded = payload.ToTensor();
        Assert.True(decoded.isnan().all().item<bool>());
        Assert.Equal(100, decoded.numel());
    }

    private static string[] Column(string dir, int column) =>
        [.. File.ReadLines(Path.Combine(dir, "metrics.csv")).Select(l => l.Split(',')[column])];
}

using System.Diagnostics;
using System.Globalization;
using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Learning.Util;
using Actors.Learning.Wire;
using TorchSharp;

namespace Actors.LoadTests.Compression;

/// <summary>
/// Side-by-side Stopwatch harness (BenchmarkDotNet is too slow on a shared 2-core machine):
/// compress + decompress time per compressor as a ratio to a plain copy of the same tensor in the same run,
/// serializer round-trip MB/s next to a byte[] copy of the same size, and the payload fuzz run.
/// Options: --sizes 1000000,25000000 (or none) --reps 5 --fuzz-cases 100000 (0 = skip) --fuzz-seed 20261126 --threads 0.
/// </summary>
public static class CompressionBenchmark
{
    public static int Run(string[] args)
    {
        var sizesOption = Option(args, "--sizes", "1000000,25000000");
        var sizes = sizesOption == "none" ? [] : sizesOption.Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int reps = int.Parse(Option(args, "--reps", "5"), CultureInfo.InvariantCulture);
        int fuzzCases = int.Parse(Option(args, "--fuzz-cases", "100000"), CultureInfo.InvariantCulture);
        TorchSetup.Initialize(int.Parse(Option(args, "--threads", "0"), CultureInfo.InvariantCulture));
        Console.WriteLine($"compression benchmark: {Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}, {reps} reps, best of reps");

        foreach (var d in sizes) Compressors(d, reps);
        foreach (var d in sizes) Serializer(d, reps);
        Fuzz(fuzzCases, int.Parse(Option(args, "--fuzz-seed", "20261126"), CultureInfo.InvariantCulture));
        return 0;
    }

    private static readonly (string Label, CompressionSettings Settings)[] Cases =
    [
        ("none", new CompressionSettings("none")),
        ("topk 1%", new CompressionSettings("topk", Ratio: 0.01)),
        ("randk 1%", new CompressionSettings("randk", Ratio: 0.01)),
        ("random-block 1%", new CompressionSettings("random-block", Ratio: 0.01)),
        ("qsgd s=16", new CompressionSettings("qsgd", Levels: 16)),
        ("sign", new CompressionSettings("sign")),
        ("powersgd r=2", new CompressionSettings("powersgd", Rank: 2)),
        ("topk 1% + EF", new CompressionSettings("topk", Ratio: 0.01, ErrorFeedback: true)),
    ];

    private static void Compressors(long d, int reps)
    {
        using var generator = new torch.Generator(1);
        using var x = torch.randn(d, generator: generator);
        using var copyTarget = torch.empty_like(x);
        // PowerSGD sees the vector as one near-square matrix (1M = 1000 x 1000, 25M = 5000 x 5000).
        long rows = (long)Math.Sqrt(d);
        while (d % rows != 0) rows--;
        var layout = new ParameterLayout([("w", [rows, d / rows], 0, d)]);
        var ctx = new CompressionContext(0, 7, layout);

        Console.WriteLine();
        Console.WriteLine($"## {d:N0} float32 ({d * 4 / 1e6:F0} MB): each rep times a plain copy_ of x, then compress, then decompress");
        Console.WriteLine("| compressor | copy ms | compress ms | decompress ms | (c + d) / copy | wire bytes | smaller than uncompressed |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        long uncompressed = TensorPayload.UncompressedSizeBytes(d);
        foreach (var (label, settings) in Cases)
        {
            var compressor = Actors.Learning.Compression.Compressors.Create(settings, seed: 3);
            long step = 0;
            long wire = 0;
            var samples = Interleaved(reps, () => copyTarget.copy_(x), () =>
            {
                using var scope = torch.NewDisposeScope();
                var sw = Stopwatch.StartNew();
                using var c = compressor.Compress(x, ctx with { Step = step++ });
                double cMs = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                using var y = compressor.Decompress(c);
                double dMs = sw.Elapsed.TotalMilliseconds;
                wire = TensorPayload.SizeOf(c);
                return (cMs, dMs);
            });
            (compressor as IDisposable)?.Dispose();
            Console.WriteLine($"| {label} | {samples.Copy:F2} | {samples.First:F2} | {samples.Second:F2} | {samples.Ratio:F1}x | {wire:N0} | {(double)uncompressed / wire:F1}x |");
        }
    }

    private static void Serializer(long d, int reps)
    {
        using var generator = new torch.Generator(2);
        using var x = torch.randn(d, generator: generator);
        Console.WriteLine();
        Console.WriteLine($"## serializer round trip (tensor -> wire bytes -> validated payload -> tensors), {d:N0} float32");
        Console.WriteLine("| payload | bytes | byte[] copy ms | encode ms | decode + to tensors ms | round trip MB/s | round trip / copy |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var topk = new TopK(0.01);
        foreach (var (label, compressed) in new[]
        {
            ("none", new CompressedTensor("none", x.shape, [x.alias()], dtype: x.dtype)),
            ("topk 1%", topk.Compress(x, new CompressionContext(0, 1))),
        })
        {
            using var _ = compressed;
            int size = TensorPayload.SizeOf(compressed);
            var source = new byte[size];
            var copy = new byte[size];
            var samples = Interleaved(reps, () => source.AsSpan().CopyTo(copy), () =>
            {
                var sw = Stopwatch.StartNew();
                var bytes = TensorPayload.FromCompressed(compressed).Encode();
                double eMs = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                using (var back = TensorPayload.Decode(bytes).ToCompressed()) { }
                return (eMs, sw.Elapsed.TotalMilliseconds);
            });
            double mb = size / 1e6;
            Console.WriteLine($"| {label} | {size:N0} | {samples.Copy:F2} | {samples.First:F2} | {samples.Second:F2} | {mb / ((samples.First + samples.Second) / 1000):F0} | {samples.Ratio:F1}x |");
        }
    }

    /// <summary>
    /// Runs the baseline and the measured pair back to back, rep after rep (one warm-up), so both see the same machine
    /// load; returns the best (minimum) time of each over the reps, and the ratio of the bests. On a loaded machine the
    /// minimum is the least disturbed estimate: a descheduled rep only ever adds time.
    /// </summary>
    private static (double Copy, double First, double Second, double Ratio) Interleaved(int reps, Action baseline, Func<(double, double)> measured)
    {
        baseline();
        measured();
        var copy = new double[reps];
        var first = new double[reps];
        var second = new double[reps];
        var total = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            baseline();
            copy[i] = sw.Elapsed.TotalMilliseconds;
            (first[i], second[i]) = measured();
            total[i] = first[i] + second[i];
        }
        return (copy.Min(), first.Min(), second.Min(), total.Min() / copy.Min());
    }

    private static void Fuzz(int cases, int seed)
    {
        if (cases <= 0) return;
        var samples = PayloadFuzzer.SamplePayloads();
        var sw = Stopwatch.StartNew();
        var result = PayloadFuzzer.Run(samples, cases, seed);
        sw.Stop();
        Console.WriteLine();
        Console.WriteLine($"## payload fuzz: {result.Cases:N0} corrupted payloads from {samples.Count} valid ones in {sw.Elapsed.TotalSeconds:F1} s: " +
            $"{result.Rejected:N0} rejected with SerializationException, {result.Accepted:N0} still valid and decompressed, nothing else escaped");
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}

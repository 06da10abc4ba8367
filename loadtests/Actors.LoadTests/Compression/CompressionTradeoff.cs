using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Configuration;
using ScottPlot;

namespace Actors.LoadTests.Compression;

/// <summary>
/// The report of the compression trade-off sweep (cluster-config/experiments/compression-tradeoff.hocon): per cell the
/// virtual time to reach the target accuracy (the uncompressed run's final accuracy minus 1 point, same model and
/// bandwidth; "not reached" is a result), final accuracy, bytes and where the modelled time went; per compressor setting
/// the bandwidth below which it pays, from T(B) = a + b / B fitted to its three bandwidths and the uncompressed run's.
/// Writes tradeoff.md, tradeoff.csv, time-to-target-MODEL.png and time-shares-MODEL.png into the sweep directory, and with
/// --docs DIR the same into DIR/compression-tradeoff/.
/// </summary>
public static class CompressionTradeoff
{
    private const double TargetGap = 0.01;

    public sealed record Cell(string Model, string Codec, string Setting, double BandwidthMbps, double FinalAccuracy, long BytesUplink, long BytesUplinkUncompressed,
        double VirtualTimeS, (double Time, double Accuracy)[] Curve, double ComputeShare, double CompressShare, double CommunicateShare,
        double EncodeNs, double DecodeNs)
    {
        public string Label => Codec == "none" ? "none" : $"{Codec} {Setting}".Trim();
    }

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine("usage: compression-tradeoff SWEEP_DIR [--docs DOCS_DIR]\n  reads SWEEP_DIR/cells/* of `actors sweep cluster-config/experiments/compression-tradeoff.hocon`\n" +
                                    "       compression-tradeoff --compare DIR\n  the cluster-vs-simulation cells of docs/compression-cluster.sh");
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] == "--compare") return Compare(args.Length > 1 ? args[1] : "runs/compression-cluster");
        var sweep = args[0];
        string? docs = args.SkipWhile(a => a != "--docs").Skip(1).FirstOrDefault();
        var cells = Read(sweep);
        if (cells.Count == 0)
        {
            Console.Error.WriteLine($"no finished cells under {Path.Combine(sweep, "cells")}: run the sweep first");
            return 2;
        }
        foreach (var dir in new[] { sweep }.Concat(docs is null ? [] : [Path.Combine(docs, "compression-tradeoff")]))
        {
            Directory.CreateDirectory(dir);
            Write(cells, dir);
            Console.WriteLine($"wrote {Path.Combine(dir, "tradeoff.md")} ({cells.Count} cells)");
        }
        return 0;
    }

    public static List<Cell> Read(string sweep)
    {
        var cells = new List<Cell>();
        var root = Path.Combine(sweep, "cells");
        if (!Directory.Exists(root)) return cells;
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var summaryPath = Path.Combine(dir, "summary.json");
            if (!File.Exists(summaryPath)) continue;
            var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!.AsObject();
            var config = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(dir, "config.hocon")));
            var codec = config.GetString("compression.type");
            string setting = codec switch
            {
                "none" => "",
                "powersgd" => $"r{config.GetInt("compression.rank")}",
                "qsgd" => $"s{config.GetInt("compression.levels")}",
                "sign" => "",
                _ => string.Create(CultureInfo.InvariantCulture, $"{config.GetDouble("compression.ratio") * 100:0.#}%"),
            };
            if (codec != "none" && !config.GetBoolean("compression.error-feedback")) setting = $"{setting} no EF".Trim();
            var curve = Curve(dir);
            var shares = summary["time_shares"]?.AsObject();
            var cost = summary["compression_cost"]?.AsObject();
            cells.Add(new Cell(config.GetString("model.type"), codec, setting, config.GetDouble("timing.bandwidth-mbps"), D(summary["final_test_accuracy"]),
                (long)D(summary["bytes_uplink"]), (long)D(summary["bytes_uplink_uncompressed"]), D(summary["virtual_time_s"]), curve,
                D(shares?["compute"]), D(shares?["compress"]), D(shares?["communicate"]), D(cost?["encode_ns_per_value"]), D(cost?["decode_ns_per_value"])));
        }
        return cells;
    }

    /// <summary>
    /// docs/compression-cluster.sh's cells: the cluster's wall-clock time to target (links throttled) beside the simulation's
    /// prediction; the target is each side's own uncompressed final accuracy minus 1 point. Prints a table and writes compare.md.
    /// </summary>
    public static int Compare(string dir)
    {
        var md = new StringBuilder("| cell | final acc. cluster / sim | time to target: cluster (wall) | simulation | sim / cluster |\n|---|---|---|---|---|\n");
        var clusterTarget = Curve(Path.Combine(dir, "cluster", "none"))[^1].Accuracy - TargetGap;
        var simTarget = Curve(Path.Combine(dir, "sim", "none"))[^1].Accuracy - TargetGap;
        foreach (var cell in Directory.GetDirectories(Path.Combine(dir, "cluster")).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            var c = Curve(Path.Combine(dir, "cluster", cell!));
            var s = Curve(Path.Combine(dir, "sim", cell!));
            double? tc = TimeToTarget(c, clusterTarget);
            double? ts = TimeToTarget(s, simTarget);
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {cell} | {c[^1].Accuracy * 100:0.00}% / {s[^1].Accuracy * 100:0.00}% | {(tc is { } a ? $"{a:0.0} s" : "not reached")} | {(ts is { } b ? $"{b:0.0} s" : "not reached")} | {(tc is { } x && ts is { } y ? $"{y / x:0.00}" : "-")} |\n"));
        }
        File.WriteAllText(Path.Combine(dir, "compare.md"), md.ToString());
        Console.Write(md);
        return 0;
    }

    /// <summary>(virtual_time_s, test_accuracy) of each evaluation row of a run's metrics.csv (wall-clock seconds for realtime runs).</summary>
    private static (double Time, double Accuracy)[] Curve(string run)
    {
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        var header = rows[0].Split(',');
        int acc = Array.IndexOf(header, "test_accuracy"), time = Array.IndexOf(header, "virtual_time_s");
        return [.. rows.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(','))
            .Select(f => (double.Parse(f[time], CultureInfo.InvariantCulture), double.Parse(f[acc], CultureInfo.InvariantCulture)))];
    }

    private static double D(JsonNode? n) => n is null ? 0 : double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);

    /// <summary>The uncompressed cell of the same model and bandwidth, whose final accuracy minus 1 point is the target.</summary>
    private static Cell? Baseline(IEnumerable<Cell> cells, Cell c) => cells.FirstOrDefault(b => b.Codec == "none" && b.Model == c.Model && b.BandwidthMbps == c.BandwidthMbps);

    /// <summary>Virtual time of the first evaluation at or above the target; null when the run never got there.</summary>
    public static double? TimeToTarget(Cell c, double target) => TimeToTarget(c.Curve, target);

    private static double? TimeToTarget((double Time, double Accuracy)[] curve, double target) =>
        curve.Where(p => p.Accuracy >= target).Select(p => (double?)p.Time).FirstOrDefault();

    /// <summary>Least squares T = a + b / B over the points; (a, b, worst relative residual).</summary>
    public static (double A, double B, double Residual) Fit(IReadOnlyList<(double Bandwidth, double Time)> points)
    {
        var x = points.Select(p => 1.0 / p.Bandwidth).ToArray();
        var y = points.Select(p => p.Time).ToArray();
        double mx = x.Average(), my = y.Average();
        double sxx = x.Sum(v => (v - mx) * (v - mx)), sxy = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my));
        double b = sxx > 0 ? sxy / sxx : 0, a = my - b * mx;
        double residual = points.Max(p => Math.Abs(a + b / p.Bandwidth - p.Time) / Math.Max(p.Time, 1e-12));
        return (a, b, residual);
    }

    /// <summary>Where compression stops paying: "below N Mb/s", "at every bandwidth", "never", or why it cannot say.</summary>
    public static string Crossover(IReadOnlyList<(double Bandwidth, double Time)> compressed, IReadOnlyList<(double Bandwidth, double Time)> baseline)
    {
        if (compressed.Count < 2) return "not reached at enough bandwidths";
        var c = Fit(compressed);
        var n = Fit(baseline);
        // T_c(B) < T_n(B)  <=>  (a_c - a_n) < (b_n - b_c) / B
        double da = c.A - n.A, db = n.B - c.B;
        if (da <= 0 && db >= 0) return "at every bandwidth";
        if (da >= 0 && db <= 0) return "never";
        double crossover = db / da; // Mb/s
        return da > 0
            ? string.Create(CultureInfo.InvariantCulture, $"below {Mbps(crossover)}")
            : string.Create(CultureInfo.InvariantCulture, $"above {Mbps(crossover)}");
    }

    private static string Mbps(double mbps) => mbps >= 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{mbps / 1000:0.##} Gb/s")
        : string.Create(CultureInfo.InvariantCulture, $"{mbps:0.#} Mb/s");

    private static void Write(List<Cell> cells, string dir)
    {
        var md = new StringBuilder();
        var csv = new StringBuilder("model,compressor,setting,bandwidth_mbps,final_accuracy,accuracy_vs_none,target_accuracy,time_to_target_s,speedup_vs_none,bytes_uplink,bytes_ratio,share_compute,share_compress,share_communicate,encode_ns_per_value,decode_ns_per_value\n");
        md.AppendLine("# Compression trade-off: time to target against bandwidth");
        md.AppendLine();
        md.AppendLine("Generated by `compression-tradeoff` (loadtests) from the sweep `cluster-config/experiments/compression-tradeoff.hocon`; do not edit by hand.");
        md.AppendLine("Target: the uncompressed run's final accuracy minus 1 point (same model and bandwidth). Time is virtual (simulation): compute");
        md.AppendLine("10 ms a step, latency 1 ms, the link's bandwidth, and each compressor's measured encode/decode time per value on this machine.");
        md.AppendLine("Shares: of the modelled time summed over all messages (compute, encode + decode, links).");
        foreach (var model in cells.Select(c => c.Model).Distinct().Order(StringComparer.Ordinal))
        {
            var ofModel = cells.Where(c => c.Model == model).ToList();
            md.AppendLine();
            md.AppendLine($"## {model}");
            md.AppendLine();
            md.AppendLine("| compressor | bandwidth | final acc. | vs none | time to target | speedup | bytes (x fewer) | compute / compress / communicate | encode, decode ns/value |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var c in Order(ofModel))
            {
                var b = Baseline(ofModel, c);
                double target = (b?.FinalAccuracy ?? double.NaN) - TargetGap;
                var t = TimeToTarget(c, target);
                var tb = b is null ? null : TimeToTarget(b, target);
                string speed = t is { } tt && tb is { } tbb ? string.Create(CultureInfo.InvariantCulture, $"{tbb / tt:0.00}x") : "-";
                double fewer = c.BytesUplink > 0 ? (double)c.BytesUplinkUncompressed / c.BytesUplink : double.NaN;
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {c.Label} | {Mbps(c.BandwidthMbps)} | {c.FinalAccuracy * 100:0.00}% | {(c.FinalAccuracy - (b?.FinalAccuracy ?? double.NaN)) * 100:+0.00;-0.00;0.00} | {(t is { } v ? $"{v:0.00} s" : "not reached")} | {speed} | {c.BytesUplink / 1e6:0.0} MB ({fewer:0.#}x) | {c.ComputeShare * 100:0}% / {c.CompressShare * 100:0}% / {c.CommunicateShare * 100:0}% | {c.EncodeNs:0.##}, {c.DecodeNs:0.##} |"));
                csv.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"{c.Model},{c.Codec},{c.Setting},{c.BandwidthMbps},{c.FinalAccuracy},{c.FinalAccuracy - (b?.FinalAccuracy ?? double.NaN)},{target},{(t is { } v2 ? v2.ToString(CultureInfo.InvariantCulture) : "")},{(t is { } a && tb is { } bb ? (bb / a).ToString(CultureInfo.InvariantCulture) : "")},{c.BytesUplink},{fewer},{c.ComputeShare},{c.CompressShare},{c.CommunicateShare},{c.EncodeNs},{c.DecodeNs}"));
            }
            md.AppendLine();
            md.AppendLine($"Where each setting pays on the {model} (T(B) = a + b/B fitted to its time to target at the three bandwidths, against the uncompressed run's):");
            md.AppendLine();
            md.AppendLine("| compressor | pays | fit: a (s), b (s x Mb/s), worst residual |");
            md.AppendLine("|---|---|---|");
            var baselinePoints = Points(ofModel, "none");
            if (baselinePoints.Count >= 2)
            {
                var nf = Fit(baselinePoints);
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| none (the reference) | - | {nf.A:0.00}, {nf.B:0.0}, {nf.Residual * 100:0.0}% |"));
            }
            foreach (var label in Order(ofModel).Select(c => c.Label).Distinct().Where(l => l != "none"))
            {
                var points = Points(ofModel, label);
                var fit = points.Count >= 2 ? Fit(points) : default;
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {label} | {(baselinePoints.Count >= 2 ? Crossover(points, baselinePoints) : "no baseline")} | {(points.Count >= 2 ? $"{fit.A:0.00}, {fit.B:0.0}, {fit.Residual * 100:0.0}%" : "-")} |"));
            }
            md.AppendLine();
            md.AppendLine($"![time to target, {model}](time-to-target-{model}.png)");
            md.AppendLine();
            md.AppendLine($"![where the time went, {model}](time-shares-{model}.png)");
            TimeToTargetPlot(ofModel, Path.Combine(dir, $"time-to-target-{model}.png"), model);
            SharesPlot(ofModel, Path.Combine(dir, $"time-shares-{model}.png"), model);
        }
        File.WriteAllText(Path.Combine(dir, "tradeoff.md"), md.ToString());
        File.WriteAllText(Path.Combine(dir, "tradeoff.csv"), csv.ToString());
    }

    private static IEnumerable<Cell> Order(IEnumerable<Cell> cells) =>
        cells.OrderBy(c => c.Codec == "none" ? "" : c.Codec, StringComparer.Ordinal).ThenBy(c => c.Setting.Length).ThenBy(c => c.Setting, StringComparer.Ordinal).ThenBy(c => c.BandwidthMbps);

    /// <summary>(bandwidth, time to target) of one setting where it reached the target.</summary>
    private static List<(double Bandwidth, double Time)> Points(List<Cell> ofModel, string label) =>
        [.. ofModel.Where(c => c.Label == label).OrderBy(c => c.BandwidthMbps)
            .Select(c => (c.BandwidthMbps, Baseline(ofModel, c) is { } b ? TimeToTarget(c, b.FinalAccuracy - TargetGap) : null))
            .Where(p => p.Item2 is not null).Select(p => (p.BandwidthMbps, p.Item2!.Value))];

    private static void TimeToTargetPlot(List<Cell> cells, string path, string model)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category20();
        int i = 0;
        foreach (var label in Order(cells).Select(c => c.Label).Distinct())
        {
            var points = Points(cells, label);
            if (points.Count == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => Math.Log10(p.Bandwidth)).ToArray(), points.Select(p => p.Time).ToArray());
            var reference = Points(cells, "none");
            line.LegendText = label == "none" || reference.Count < 2 ? label : $"{label}: pays {Crossover(points, reference)}";
            line.Color = palette.GetColor(i++);
            line.LineWidth = label == "none" ? 4 : 2;
        }
        plot.Axes.Bottom.SetTicks([2, 3, 4], ["100 Mb/s", "1 Gb/s", "10 Gb/s"]);
        plot.Title($"{model}: virtual time to reach the uncompressed accuracy - 1 point");
        plot.XLabel("link bandwidth");
        plot.YLabel("time to target (s, virtual)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1000, 650);
    }

    private static void SharesPlot(List<Cell> cells, string path, string model)
    {
        var plot = new Plot();
        var ordered = Order(cells).ToList();
        var colors = new[] { Colors.SteelBlue, Colors.Orange, Colors.SeaGreen };
        var names = new[] { "compute", "compress (encode + decode)", "communicate" };
        var bars = new List<Bar>();
        for (int k = 0; k < ordered.Count; k++)
        {
            double bottom = 0;
            var c = ordered[k];
            foreach (var (share, color) in new[] { c.ComputeShare, c.CompressShare, c.CommunicateShare }.Zip(colors))
            {
                bars.Add(new Bar { Position = k, ValueBase = bottom * 100, Value = (bottom + share) * 100, FillColor = color });
                bottom += share;
            }
        }
        plot.Add.Bars(bars);
        for (int j = 0; j < names.Length; j++) plot.Legend.ManualItems.Add(new LegendItem { LabelText = names[j], FillColor = colors[j] });
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, ordered.Count).Select(k => (double)k)],
            [.. ordered.Select(c => $"{c.Label} @ {Mbps(c.BandwidthMbps)}")]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 60;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 160;
        plot.Axes.Margins(bottom: 0);
        plot.Title($"{model}: where the modelled time went (share of compute, compression, links)");
        plot.YLabel("share of modelled time (%)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Math.Max(900, 28 * ordered.Count + 200), 700);
    }
}

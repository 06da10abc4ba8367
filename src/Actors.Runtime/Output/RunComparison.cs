using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Runtime.Experiments;
using Akka.Configuration;
using ScottPlot;

namespace Actors.Runtime.Output;

/// <summary>
/// <c>actors compare RUN_DIR... [--out DIR]</c>: overlaid curves of several run directories (or every finished cell of a
/// sweep directory), a table of their final figures and the config keys that differ between them.
/// </summary>
public static class RunComparison
{
    /// <summary>One run directory, read: its name, summary.json, metrics.csv rows (column -> value) and flattened config.</summary>
    public sealed record RunData(string Name, string Directory, JsonObject Summary, IReadOnlyList<IReadOnlyDictionary<string, double>> Rows,
        IReadOnlyDictionary<string, string> Config);

    /// <summary>The common final figures of the table, in order (a run's kind may add more: those every compared run has).</summary>
    private static readonly string[] CommonFigures =
        ["final_test_accuracy", "final_test_loss", "steps", "updates_applied", "virtual_time_s", "bytes_sent", "bytes_uplink", "diverged"];

    /// <summary>Run directories as given, with a sweep directory (one holding cells/) replaced by its finished cells.</summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var dirs = new List<string>();
        foreach (var input in inputs)
        {
            var cells = Path.Combine(input, "cells");
            if (System.IO.Directory.Exists(cells) && !File.Exists(Path.Combine(input, "summary.json")))
                dirs.AddRange(System.IO.Directory.GetDirectories(cells).Where(d => File.Exists(Path.Combine(d, "summary.json"))).Order(StringComparer.Ordinal));
            else dirs.Add(input);
        }
        return dirs;
    }

    /// <summary>Reads a run directory; a missing or broken one is bad input naming it (exit 2).</summary>
    public static RunData Read(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!System.IO.Directory.Exists(dir)) throw new UserInputException($"{dir}: no such run directory");
        string Need(string file) => File.Exists(Path.Combine(dir, file)) ? Path.Combine(dir, file)
            : throw new UserInputException($"{dir}: not a finished run directory ({file} is missing)");
        JsonObject summary;
        try
        {
            summary = JsonNode.Parse(File.ReadAllText(Need("summary.json"))) as JsonObject ?? throw new UserInputException($"{dir}: summary.json is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new UserInputException($"{Path.Combine(dir, "summary.json")}: does not parse ({e.Message})");
        }
        var lines = File.ReadAllLines(Need("metrics.csv")).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0) throw new UserInputException($"{Path.Combine(dir, "metrics.csv")}: empty");
        var header = lines[0].Split(',');
        var rows = new List<IReadOnlyDictionary<string, double>>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != header.Length) throw new UserInputException($"{Path.Combine(dir, "metrics.csv")}: a row has {cells.Length} fields, the header {header.Length}");
            rows.Add(header.Zip(cells).ToDictionary(p => p.First, p => Number(p.Second)));
        }
        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(File.ReadAllText(Need("config.hocon")));
        }
        catch (Exception e) when (e is not OutOfMemoryException and not UserInputException)
        {
            throw new UserInputException($"{Path.Combine(dir, "config.hocon")}: does not parse ({e.Message})");
        }
        var flat = HoconWriter.Flatten(config).ToDictionary(p => p.Key, p => p.Value);
        return new RunData(Path.GetFileName(Path.TrimEndingDirectorySeparator(dir)), dir, summary, rows, flat);
    }

    /// <summary>Writes compare.md, compare.csv and the overlaid plots into <paramref name="outDir"/>; returns the file names.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<RunData> runs, string outDir)
    {
        ArgumentNullException.ThrowIfNull(runs);
        System.IO.Directory.CreateDirectory(outDir);
        var figures = CommonFigures.Concat(KindFigures(runs)).ToList();
        var differing = runs.SelectMany(r => r.Config.Keys).Distinct().Order(StringComparer.Ordinal)
            .Where(k => runs.Select(r => r.Config.GetValueOrDefault(k, "(absent)")).Distinct().Count() > 1).ToList();

        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', new[] { "run" }.Concat(figures).Concat(differing).Select(Quote)));
        foreach (var r in runs)
            csv.AppendLine(string.Join(',', new[] { r.Name }.Concat(figures.Select(f => Text(r.Summary[f]))).Concat(differing.Select(k => r.Config.GetValueOrDefault(k, ""))).Select(Quote)));
        RunDirectory.WriteFileAtomic(Path.Combine(outDir, "compare.csv"), csv.ToString());

        var md = new StringBuilder();
        md.AppendLine($"# Comparison of {runs.Count} runs").AppendLine();
        md.AppendLine("| run | " + string.Join(" | ", figures) + " |");
        md.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", figures.Count + 1)));
        foreach (var r in runs) md.AppendLine($"| {r.Name} | " + string.Join(" | ", figures.Select(f => Text(r.Summary[f]))) + " |");
        md.AppendLine().AppendLine(differing.Count == 0 ? "The runs have the same configuration." : "Config keys that differ:").AppendLine();
        if (differing.Count > 0)
        {
            md.AppendLine("| key | " + string.Join(" | ", runs.Select(r => r.Name)) + " |");
            md.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", runs.Count + 1)));
            foreach (var k in differing) md.AppendLine($"| {k} | " + string.Join(" | ", runs.Select(r => r.Config.GetValueOrDefault(k, "(absent)"))) + " |");
        }
        var plots = new List<string>();
        void Curve(string file, string x, string y, string xLabel, string yLabel, double scaleY = 1)
        {
            if (!runs.Any(r => r.Rows.Any(row => row.TryGetValue(x, out var a) && row.TryGetValue(y, out var b) && double.IsFinite(a) && double.IsFinite(b)))) return;
            var plot = new Plot();
            foreach (var r in runs)
            {
                var points = r.Rows.Where(row => row.TryGetValue(x, out var a) && row.TryGetValue(y, out var b) && double.IsFinite(a) && double.IsFinite(b)).ToList();
                if (points.Count == 0) continue;
                var s = plot.Add.Scatter(points.Select(p => p[x]).ToArray(), points.Select(p => p[y] * scaleY).ToArray());
                s.LegendText = r.Name;
                s.LineWidth = 2;
            }
            plot.Title(yLabel + " vs " + xLabel);
            plot.XLabel(xLabel);
            plot.YLabel(yLabel);
            plot.ShowLegend(y == "test_accuracy" ? Alignment.LowerRight : Alignment.UpperRight); // out of the way of curves that rise / fall
            plot.SavePng(Path.Combine(outDir, file), 900, 550);
            plots.Add(file);
        }
        Curve("accuracy.png", "step", "test_accuracy", "step", "test accuracy (%)", 100);
        Curve("loss.png", "step", "test_loss", "step", "test loss");
        Curve("accuracy-time.png", "virtual_time_s", "test_accuracy", "virtual time (s)", "test accuracy (%)", 100);
        Curve("loss-time.png", "virtual_time_s", "test_loss", "virtual time (s)", "test loss");
        Curve("accuracy-bytes.png", "bytes_sent", "test_accuracy", "bytes sent", "test accuracy (%)", 100);
        foreach (var f in KindFigures(runs).Where(f => runs.All(r => r.Rows.Count > 0 && r.Rows[0].ContainsKey(f))))
            Curve($"{f}.png", "step", f, "step", f);
        md.AppendLine().AppendLine(string.Join("\n", plots.Select(p => $"![{p}]({p})")));
        RunDirectory.WriteFileAtomic(Path.Combine(outDir, "compare.md"), md.ToString());
        return ["compare.md", "compare.csv", .. plots];
    }

    /// <summary>Figures a kind adds to summary.json that are metrics.csv columns of every run (a game's, pruning's, gossip's).</summary>
    private static IEnumerable<string> KindFigures(IReadOnlyList<RunData> runs)
    {
        string[] common = ["step", "test_loss", "test_accuracy", "updates_applied", "virtual_time_s", "messages_sent", "bytes_sent", "bytes_uplink"];
        return runs[0].Rows.Count == 0 ? [] : runs[0].Rows[0].Keys.Where(k => !common.Contains(k) && runs.All(r => r.Summary.ContainsKey(k)));
    }

    private static double Number(string s) => s switch
    {
        "nan" => double.NaN,
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN,
    };

    private static string Text(JsonNode? n) => n switch
    {
        null => "",
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString("G6", CultureInfo.InvariantCulture),
        _ => n.ToJsonString().Trim('"'),
    };

    private static string Quote(string s) => s.Contains(',', StringComparison.Ordinal) || s.Contains('"', StringComparison.Ordinal) ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}

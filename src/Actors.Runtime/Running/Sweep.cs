using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Akka.Configuration;
using ScottPlot;

namespace Actors.Runtime.Running;

/// <summary>One cell of a sweep: its key settings (axes or a baseline) and a seed.</summary>
public sealed record SweepCell(IReadOnlyList<(string Key, string Value)> Settings, long Seed)
{
    /// <summary>The cell's name without the seed: what results are grouped by.</summary>
    public string Group => string.Join(" ", Settings.Select(s => $"{s.Key}={s.Value}"));

    /// <summary>A directory name identifying the resolved key values and the seed.</summary>
    public string Id => string.Join(",", Settings.Select(s => $"{s.Key}={s.Value}").Append($"seed={Seed}"))
        .Replace('/', '-').Replace(' ', '-');

    public IEnumerable<string> Overrides => Settings.Select(s => $"{s.Key}={s.Value}").Append($"experiment.seed={Seed}");
}

/// <summary>
/// `actors sweep`: the cartesian product of the listed values (x variants, x seeds), plus baseline cells; each cell is a normal run
/// directory under OUT/cells/; finished cells (summary.json exists) are skipped, so a sweep resumes where it stopped.
/// Writes results.csv (one row per run), results.md (mean and std per cell) and heatmap.png.
/// </summary>
public static class Sweep
{
    public static (Config Base, List<SweepCell> Cells) Plan(string file, IEnumerable<string> overrides)
    {
        var merged = ExperimentConfig.Load(file, overrides);
        if (!merged.HasPath("sweep")) throw new ExperimentConfigException($"{file}: no 'sweep' block (sweep {{ axes {{ \"aggregator.type\" = [mean, cclip] }}, seeds = [1, 2] }})");
        var sweep = merged.GetConfig("sweep");
        var seeds = sweep.HasPath("seeds") ? sweep.GetLongList("seeds").ToList() : [merged.GetLong("experiment.seed")];
        var axes = new List<(string Key, List<string> Values)>();
        if (sweep.HasPath("axes"))
        {
            foreach (var (key, value) in sweep.GetConfig("axes").Root.GetObject().Items)
            {
                var k = key.Trim('"');
                if (!ExperimentConfig.Reference.HasPath(k)) throw new ExperimentConfigException($"sweep axis '{k}' is not an experiment key");
                axes.Add((k, value.GetArray().Select(v => v.GetString()).ToList()));
            }
        }
        var cells = new List<SweepCell>();
        // Variants: explicit groups of settings (e.g. a compressor with its own ratio or rank), each crossed with the axes.
        IEnumerable<List<(string, string)>> product = sweep.HasPath("variants")
            ? [.. sweep.GetValue("variants").GetArray().Select(v => Settings(v))]
            : [[]];
        foreach (var (key, values) in axes)
            product = product.SelectMany(p => values.Select(v => new List<(string, string)>(p) { (key, v) }));
        foreach (var combo in product)
            foreach (var seed in seeds) cells.Add(new SweepCell(combo, seed));
        if (sweep.HasPath("baselines"))
        {
            foreach (var b in sweep.GetValue("baselines").GetArray())
            {
                foreach (var seed in seeds) cells.Add(new SweepCell(Settings(b), seed));
            }
        }
        static List<(string, string)> Settings(Akka.Configuration.Hocon.HoconValue group)
        {
            var settings = group.GetObject().Items.Select(kv => (kv.Key.Trim('"'), kv.Value.GetString())).ToList();
            foreach (var (k, _) in settings)
                if (!ExperimentConfig.Reference.HasPath(k)) throw new ExperimentConfigException($"sweep key '{k}' is not an experiment key");
            return settings;
        }
        // Validate every cell before running any: a typo fails now, not after an hour.
        foreach (var cell in cells) ExperimentKinds.Load(file, [.. overrides, .. cell.Overrides]);
        return (merged, cells);
    }

    public static async Task<int> Run(string file, IEnumerable<string> overrides, string outDir, int parallel, Action<string> report, Action<string> warn, CancellationToken cancel)
    {
        var overrideList = overrides.ToList();
        var (_, cells) = Plan(file, overrideList);
        Directory.CreateDirectory(Path.Combine(outDir, "cells"));
        int done = 0, skipped = 0, failed = 0;
        // Seed-major order: every cell gets its first seed before any gets its second, so a sweep stopped part-way
        // still covers the whole grid.
        var seedOrder = cells.Select(c => c.Seed).Distinct().ToList();
        var todo = new List<SweepCell>();
        foreach (var c in cells)
        {
            var summary = Path.Combine(outDir, "cells", c.Id, "summary.json");
            if (ReadSummary(summary) is not null) continue;
            if (File.Exists(summary)) report($"{summary} does not parse (a run cut off while writing it?): running {c.Group} seed {c.Seed} again");
            todo.Add(c);
        }
        todo = [.. todo.OrderBy(c => seedOrder.IndexOf(c.Seed))];
        skipped = cells.Count - todo.Count;
        report($"{cells.Count} runs ({skipped} already finished), {Math.Max(1, parallel)} at a time -> {Path.GetFullPath(outDir)}");
        try
        {
            await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel), CancellationToken = cancel }, async (cell, ct) =>
            {
                var dir = Path.Combine(outDir, "cells", cell.Id);
                // A cell that fails is tried once more before it counts as failed: TorchSharp sporadically reports a native
                // "Expected false to be true" from c10::Scalar under concurrent runs (seen in about 1 cell of 10 at 2 runs
                // at a time), and a simulation cell is a function of its seed, so a second attempt gives the same figures.
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        if (Directory.Exists(dir)) Directory.Delete(dir, true); // an unfinished earlier attempt
                        var spec = ExperimentKinds.Load(file, [.. overrideList, .. cell.Overrides, $"experiment.name={cell.Id}"]);
                        var result = await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), warn, ct).ConfigureAwait(false);
                        int n = Interlocked.Increment(ref done);
                        bool diverged = result.Summary["diverged"]?.GetValue<bool>() ?? false;
                        report(string.Create(CultureInfo.InvariantCulture,
                            $"[{n + skipped}/{cells.Count}] {cell.Group} seed {cell.Seed}: accuracy {Num(result.Summary["final_test_accuracy"]):0.####}{(diverged ? " (diverged)" : result.Warning is null ? "" : " (loss grew tenfold)")}"));
                        break;
                    }
                    catch (Exception e) when (e is not OperationCanceledException && e is not UserInputException && attempt == 1)
                    {
                        report($"[retry] {cell.Group} seed {cell.Seed}: {FirstLine(e.Message)}");
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Interlocked.Increment(ref failed);
                        report($"[failed] {cell.Group} seed {cell.Seed}: {FirstLine(e.Message)}");
                        break;
                    }
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            WriteResults(cells, outDir); // also when cancelled: the cells finished so far are reported
        }
        return failed;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].TrimEnd();

    public static void WriteResults(IReadOnlyList<SweepCell> cells, string outDir)
    {
        var rows = new List<(SweepCell Cell, double Accuracy, double Loss, bool Diverged, double[] Figures)>();
        var figures = FigureKeys(cells, outDir);
        foreach (var cell in cells)
        {
            var s = ReadSummary(Path.Combine(outDir, "cells", cell.Id, "summary.json"));
            if (s is null) continue; // not run yet (or cut off): the next sweep runs it
            rows.Add((cell, Num(s["final_test_accuracy"]), Num(s["final_test_loss"]), s["diverged"]?.GetValue<bool>() ?? false,
                [.. figures.Select(f => Num(s[f]))]));
        }
        var keys = cells.SelectMany(c => c.Settings.Select(s => s.Key)).Distinct().ToList();
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', keys.Append("seed").Append("final_test_accuracy").Append("final_test_loss").Append("diverged").Concat(figures)));
        foreach (var (cell, acc, loss, diverged, values) in rows)
        {
            var settings = keys.Select(k => cell.Settings.FirstOrDefault(s => s.Key == k).Value ?? "");
            csv.AppendLine(string.Join(',', settings.Append(cell.Seed.ToString(CultureInfo.InvariantCulture))
                .Append(Output.RunDirectory.Csv(acc, "0.####")).Append(Output.RunDirectory.Csv(loss, "0.####")).Append(diverged ? "true" : "false")
                .Concat(values.Select(v => Output.RunDirectory.Csv(v, "0.######")))));
        }
        Output.RunDirectory.WriteFileAtomic(Path.Combine(outDir, "results.csv"), csv.ToString());

        bool hasAccuracy = rows.Any(r => double.IsFinite(r.Accuracy));
        var groups = rows.GroupBy(r => r.Cell.Group).Select(g =>
        {
            // A diverged cell counts as what it ended at: NaN accuracy is chance, not a hole in the table.
            var (mean, std) = MeanStd([.. g.Select(r => double.IsFinite(r.Accuracy) ? r.Accuracy * 100 : 0)]);
            var perFigure = figures.Select((_, i) => MeanStd([.. g.Select(r => r.Figures[i]).Where(double.IsFinite)])).ToArray();
            return (Settings: g.First().Cell.Settings, Mean: mean, Std: std, Count: g.Count(), Diverged: g.Count(r => r.Diverged), Figures: perFigure);
        }).ToList();
        var md = new StringBuilder();
        var columns = (hasAccuracy ? ["test accuracy % (mean ± std)"] : Array.Empty<string>()).Concat(figures.Select(f => $"{f} (mean ± std)")).ToList();
        md.AppendLine("| " + string.Join(" | ", keys.Concat(columns)) + " | seeds | diverged |");
        md.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", keys.Count + columns.Count + 2)));
        foreach (var g in groups)
        {
            var values = keys.Select(k => g.Settings.FirstOrDefault(s => s.Key == k).Value ?? "").ToList();
            if (hasAccuracy) values.Add(string.Create(CultureInfo.InvariantCulture, $"{g.Mean:0.0} ± {g.Std:0.0}"));
            values.AddRange(g.Figures.Select(f => double.IsFinite(f.Mean) ? string.Create(CultureInfo.InvariantCulture, $"{f.Mean:G4} ± {f.Std:G2}") : "n/a"));
            md.AppendLine($"| {string.Join(" | ", values)} | {g.Count} | {g.Diverged} |");
        }
        if (groups.Any(g => g.Diverged > 0)) md.AppendLine().AppendLine("A diverged run (summary.json `diverged`) counts as 0% accuracy in the mean.");
        Output.RunDirectory.WriteFileAtomic(Path.Combine(outDir, "results.md"), md.ToString());
        if (groups.Count == 0) return;
        if (hasAccuracy) Heatmap([.. groups.Select(g => (g.Settings, g.Mean, g.Std, g.Count))], keys, Path.Combine(outDir, "heatmap.png"), "final test accuracy (mean over seeds)", "test accuracy %");
        else if (figures.Count > 0)
            Heatmap([.. groups.Select(g => (g.Settings, g.Figures[0].Mean, g.Figures[0].Std, g.Count))], keys, Path.Combine(outDir, "heatmap.png"), $"final {figures[0]} (mean over seeds)", figures[0]);
    }

    private static (double Mean, double Std) MeanStd(double[] values)
    {
        if (values.Length == 0) return (double.NaN, double.NaN);
        double mean = values.Average();
        return (mean, values.Length > 1 ? Math.Sqrt(values.Sum(a => (a - mean) * (a - mean)) / (values.Length - 1)) : 0);
    }

    /// <summary>The kind's own figures (its metrics.csv columns, which it also writes to summary.json), read from the first finished cell's config.</summary>
    private static List<string> FigureKeys(IReadOnlyList<SweepCell> cells, string outDir)
    {
        foreach (var cell in cells)
        {
            var config = Path.Combine(outDir, "cells", cell.Id, "config.hocon");
            if (!File.Exists(Path.Combine(outDir, "cells", cell.Id, "summary.json")) || !File.Exists(config)) continue;
            try
            {
                var spec = ExperimentKinds.Load(config, []);
                return [.. ExperimentKinds.Get(spec.Kind).Columns(spec).Select(c => c.Name)];
            }
            catch (ExperimentConfigException)
            {
                return [];
            }
        }
        return [];
    }

    /// <summary>Columns: the values of the last axis (e.g. attack); rows: every combination of the other keys.</summary>
    private static void Heatmap(List<(IReadOnlyList<(string Key, string Value)> Settings, double Mean, double Std, int Count)> groups, List<string> keys, string path,
        string title, string scale)
    {
        var colKey = keys.Contains("attack.type") ? "attack.type" : keys[^1];
        string Col(IReadOnlyList<(string Key, string Value)> s) => s.FirstOrDefault(x => x.Key == colKey).Value ?? "-";
        string Row(IReadOnlyList<(string Key, string Value)> s) => string.Join(" ", s.Where(x => x.Key != colKey).Select(x => $"{x.Key.Split('.')[^1]}={x.Value}"));
        var cols = groups.Select(g => Col(g.Settings)).Distinct().ToList();
        var rowNames = groups.Select(g => Row(g.Settings)).Distinct().ToList();
        var data = new double[rowNames.Count, cols.Count];
        for (int r = 0; r < rowNames.Count; r++)
            for (int c = 0; c < cols.Count; c++) data[r, c] = double.NaN;
        foreach (var g in groups) data[rowNames.IndexOf(Row(g.Settings)), cols.IndexOf(Col(g.Settings))] = g.Mean;
        var plot = new Plot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        hm.FlipVertically = true;
        plot.Add.ColorBar(hm).Label = scale;
        for (int r = 0; r < rowNames.Count; r++)
            for (int c = 0; c < cols.Count; c++)
                if (!double.IsNaN(data[r, c]))
                {
                    var t = plot.Add.Text(data[r, c].ToString("0.0", CultureInfo.InvariantCulture), c, rowNames.Count - 1 - r);
                    t.LabelFontColor = Colors.White;
                    t.LabelAlignment = Alignment.MiddleCenter;
                }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, cols.Count).Select(i => (double)i).ToArray(), cols.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rowNames.Count).Select(i => (double)(rowNames.Count - 1 - i)).ToArray(), rowNames.ToArray());
        plot.Axes.Bottom.Label.Text = colKey;
        plot.Title(title);
        plot.SavePng(path, 260 + 110 * cols.Count, 160 + 28 * rowNames.Count);
    }

    private static double Num(JsonNode? n) => n is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN;

    /// <summary>A cell's summary.json, or null when there is none or it does not parse (a run cut off while writing it).</summary>
    public static JsonObject? ReadSummary(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

using System.Globalization;
using System.Text;
using ScottPlot;

namespace Actors.LoadTests.Load;

/// <summary>
/// The report folder of one load run: <c>report.md</c>, <c>report.csv</c> (a row per scenario and step),
/// <c>timeline.csv</c> (a row per scenario, step and second), <c>report.html</c> (self-contained: styles inline, plots
/// embedded as data URIs, no link outside the file) and per scenario <c>NAME-latency.png</c> and <c>NAME-throughput.png</c>.
/// </summary>
public static class LoadReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(string dir, string title, IReadOnlyList<ScenarioResult> results, IReadOnlyList<string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        Directory.CreateDirectory(dir);
        foreach (var r in results)
        {
            LatencyPlot(Path.Combine(dir, $"{r.Scenario.Name}-latency.png"), r);
            ThroughputPlot(Path.Combine(dir, $"{r.Scenario.Name}-throughput.png"), r);
        }
        File.WriteAllText(Path.Combine(dir, "report.csv"), Csv(results));
        File.WriteAllText(Path.Combine(dir, "timeline.csv"), TimelineCsv(results));
        var md = Markdown(title, results, notes ?? []);
        File.WriteAllText(Path.Combine(dir, "report.md"), md);
        File.WriteAllText(Path.Combine(dir, "report.html"), HtmlReport.FromMarkdown(title, md, dir));
    }

    private static string F(double v, string format = "0.##") => double.IsFinite(v) ? v.ToString(format, Inv) : "-";

    public static string Csv(IReadOnlyList<ScenarioResult> results)
    {
        var csv = new StringBuilder("scenario,step,ok,fail,fail_percent,ok_per_s,mean_ms,p50_ms,p75_ms,p95_ms,p99_ms,max_ms,mb_per_s,duration_s,passed\n");
        foreach (var r in results)
            foreach (var s in r.Steps)
                csv.Append(Inv, $"{r.Scenario.Name},{s.Step},{s.Ok},{s.Fail},{F(s.FailPercent, "0.###")},{F(s.OkPerSecond, "0.###")},{F(s.MeanMs, "0.###")},")
                    .Append(Inv, $"{F(s.P50Ms, "0.###")},{F(s.P75Ms, "0.###")},{F(s.P95Ms, "0.###")},{F(s.P99Ms, "0.###")},{F(s.MaxMs, "0.###")},")
                    .Append(Inv, $"{F(s.MBPerSecond, "0.###")},{r.Duration.TotalSeconds:0.###},{(r.Passed ? "true" : "false")}\n");
        return csv.ToString();
    }

    private static string TimelineCsv(IReadOnlyList<ScenarioResult> results)
    {
        var csv = new StringBuilder("scenario,step,second,ok,fail,p50_ms,p99_ms\n");
        foreach (var r in results)
            foreach (var (step, points) in r.Timeline)
                foreach (var p in points)
                    csv.Append(Inv, $"{r.Scenario.Name},{step},{p.Second},{p.Ok},{p.Fail},{F(p.P50Ms, "0.###")},{F(p.P99Ms, "0.###")}\n");
        return csv.ToString();
    }

    public static string Markdown(string title, IReadOnlyList<ScenarioResult> results, IReadOnlyList<string> notes)
    {
        var md = new StringBuilder();
        md.AppendLine(Inv, $"# {title}").AppendLine();
        md.AppendLine(Inv, $"{results.Count(r => r.Passed)} of {results.Count} scenarios passed; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.").AppendLine();
        foreach (var n in notes) md.AppendLine(n).AppendLine();
        foreach (var r in results)
        {
            md.AppendLine(Inv, $"## {r.Scenario.Name}: {(r.Passed ? "passed" : "FAILED")}").AppendLine();
            if (r.Scenario.Description.Length > 0) md.AppendLine(r.Scenario.Description).AppendLine();
            md.AppendLine(Inv, $"Load: {(r.Scenario.WarmUp > TimeSpan.Zero ? $"warm-up {r.Scenario.WarmUp.TotalSeconds:0.#} s, then " : "")}{string.Join("; ", r.Scenario.Simulations)}. Measured {r.Duration.TotalSeconds:0.0} s.");
            if (r.Error is not null) md.AppendLine().AppendLine(Inv, $"**The scenario did not run to its end:** {r.Error}");
            md.AppendLine().AppendLine("| step | ok | fail | ok/s | mean ms | p50 ms | p75 ms | p95 ms | p99 ms | max ms | MB/s |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var s in r.Steps)
                md.AppendLine(Inv, $"| {s.Step} | {s.Ok} | {s.Fail} | {F(s.OkPerSecond, "0.#")} | {F(s.MeanMs)} | {F(s.P50Ms)} | {F(s.P75Ms)} | {F(s.P95Ms)} | {F(s.P99Ms)} | {F(s.MaxMs)} | {F(s.MBPerSecond, "0.#")} |");
            var errors = r.Steps.SelectMany(s => s.Errors.Select(e => (s.Step, e.Key, e.Value))).ToList();
            if (errors.Count > 0)
            {
                md.AppendLine().AppendLine("Failures:").AppendLine();
                foreach (var (step, what, count) in errors.OrderByDescending(e => e.Value).Take(10)) md.AppendLine(Inv, $"- {step}: {count} x {what}");
            }
            if (r.Thresholds.Count > 0)
            {
                md.AppendLine().AppendLine("| threshold | step | value | result |").AppendLine("|---|---|---:|---|");
                foreach (var t in r.Thresholds) md.AppendLine(Inv, $"| {t.Threshold} | {t.Step} | {F(t.Value, "0.###")} | {(t.Holds ? "holds" : "FAILED")} |");
            }
            if (r.Figures.Count > 0)
            {
                md.AppendLine().AppendLine("| figure | value |").AppendLine("|---|---|");
                foreach (var (k, v) in r.Figures) md.AppendLine(Inv, $"| {k} | {v} |");
            }
            md.AppendLine().AppendLine(Inv, $"![latency]({r.Scenario.Name}-latency.png) ![throughput]({r.Scenario.Name}-throughput.png)").AppendLine();
        }
        return md.ToString();
    }

    private static void LatencyPlot(string path, ScenarioResult r)
    {
        var plot = new Plot();
        foreach (var (step, points) in r.Timeline)
        {
            var finite = points.Where(p => double.IsFinite(p.P99Ms)).ToList();
            if (finite.Count == 0) continue;
            var p99 = plot.Add.Scatter(finite.Select(p => (double)p.Second).ToArray(), finite.Select(p => p.P99Ms).ToArray());
            p99.LegendText = $"{step} p99";
            var p50 = plot.Add.Scatter(finite.Select(p => (double)p.Second).ToArray(), finite.Select(p => p.P50Ms).ToArray());
            p50.LegendText = $"{step} p50";
            p50.LinePattern = LinePattern.Dashed;
        }
        plot.Title($"{r.Scenario.Name}: latency over time");
        plot.XLabel("second of the run");
        plot.YLabel("latency (ms)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 800, 450);
    }

    private static void ThroughputPlot(string path, ScenarioResult r)
    {
        var plot = new Plot();
        foreach (var (step, points) in r.Timeline)
        {
            if (points.Count == 0) continue;
            var ok = plot.Add.Scatter(points.Select(p => (double)p.Second).ToArray(), points.Select(p => (double)p.Ok).ToArray());
            ok.LegendText = $"{step} ok/s";
            if (points.Any(p => p.Fail > 0))
            {
                var fail = plot.Add.Scatter(points.Select(p => (double)p.Second).ToArray(), points.Select(p => (double)p.Fail).ToArray());
                fail.LegendText = $"{step} failed/s";
                fail.LinePattern = LinePattern.Dotted;
            }
        }
        plot.Title($"{r.Scenario.Name}: throughput over time");
        plot.XLabel("second of the run");
        plot.YLabel("completions per second");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 800, 450);
    }
}

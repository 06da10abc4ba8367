using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Output;

/// <summary>
/// The end of every run, whatever its kind and wherever it ran: summary.json (the common figures, then the kind's),
/// the plots, and summary.md with the divergence warning on top when there is one.
/// </summary>
public static class RunReport
{
    private static readonly string[] CommonMarkdownKeys =
        ["final_test_accuracy", "final_test_loss", "steps", "updates_applied", "virtual_time_s", "wall_time_s", "messages_sent", "bytes_sent", "bytes_uplink"];

    /// <summary>Writes summary.json, the plots and summary.md; returns the summary and the warning for the user (or null).</summary>
    public static (JsonObject Summary, string? Warning) Write(RunDirectory dir, IExperimentKind kind, ExperimentSpec spec, RunOutcome outcome,
        double wallSeconds, string dataSource, long parameters)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(kind);
        var divergence = Divergence.Of(spec, dir.Rows, outcome.Stats, kind.FlagsLossGrowth);
        var summary = Summary(kind, spec, outcome, wallSeconds, dataSource, parameters, divergence);
        dir.WriteSummary(summary);
        if (outcome.Model is { } model)
            Learning.Models.SafeTensors.Write(Path.Combine(dir.Path, "model.safetensors"), model.Layout, model.Values,
                new Dictionary<string, string> { ["experiment"] = spec.Name, ["kind"] = spec.Kind, ["step"] = outcome.Stats.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var (description, title) = kind.Report(spec);
        var points = dir.Rows.Select(r => ((double)r.Counters.Step, r.TestAccuracy, r.TestLoss)).ToList();
        Plots.Accuracy(Path.Combine(dir.Path, "accuracy.png"), title, points);
        var plots = new List<string> { "accuracy.png" };
        plots.AddRange(kind.WritePlots(dir.Path, spec, title, dir.Rows));
        dir.WriteMarkdown(Markdown(spec, description, summary, [.. CommonMarkdownKeys, .. kind.MarkdownKeys], plots, divergence.Warning));
        return (summary, divergence.Warning);
    }

    public static JsonObject Summary(IExperimentKind kind, ExperimentSpec spec, RunOutcome o, double wallSeconds, string dataSource, long parameters,
        Divergence.Finding divergence)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(o);
        var s = o.Stats;
        var c = o.Final.Counters;
        var drops = new JsonObject();
        foreach (var (k, v) in s.UpdatesDropped.OrderBy(kv => kv.Key, StringComparer.Ordinal)) drops[k] = v;
        var summary = new JsonObject
        {
            ["name"] = spec.Name,
            ["kind"] = kind.Name,
            ["final_test_accuracy"] = Math.Round(o.Final.TestAccuracy, 6),
            ["final_test_loss"] = Math.Round(o.Final.TestLoss, 6),
            ["diverged"] = divergence.Diverged,
            ["diverged_at_step"] = divergence.AtStep,
            ["steps"] = s.Steps,
            ["updates_applied"] = s.UpdatesApplied,
            ["seed"] = spec.Seed,
            ["mode"] = spec.Mode,
            ["timing_mode"] = ConfigEnum.Name(spec.Timing.Mode),
            ["wall_time_s"] = Math.Round(wallSeconds, 3),
            ["virtual_time_s"] = Math.Round(s.VirtualTimeS, 6),
            ["messages_sent"] = c.MessagesSent,
            ["bytes_sent"] = c.BytesSent,
            ["bytes_uplink"] = c.BytesUplink,
            ["bytes_uplink_uncompressed"] = c.BytesUplinkUncompressed,
            ["updates_dropped"] = drops,
            ["workers_crashed"] = 0,
            ["events_released"] = o.EventsReleased,
            ["parameters"] = parameters,
            ["data_source"] = dataSource,
        };
        foreach (var (key, value) in o.Figures) summary[key] = value?.DeepClone();
        return summary;
    }

    public static string Markdown(ExperimentSpec spec, string description, JsonObject s, IEnumerable<string> keys, IEnumerable<string> plots, string? warning)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(s);
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# {spec.Name}");
        b.AppendLine();
        b.AppendLine(description);
        b.AppendLine();
        if (warning is not null)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"**Warning: {warning}**");
            b.AppendLine();
        }
        b.AppendLine("| figure | value |");
        b.AppendLine("|---|---|");
        foreach (var key in keys.Distinct())
            if (s.ContainsKey(key)) b.AppendLine(CultureInfo.InvariantCulture, $"| {key} | {RunDirectory.ToJson(s[key], indented: false)} |");
        if (s["updates_dropped"] is JsonObject drops) b.AppendLine(CultureInfo.InvariantCulture, $"| updates_dropped | {RunDirectory.ToJson(drops, indented: false)} |");
        b.AppendLine();
        foreach (var p in plots) b.AppendLine(CultureInfo.InvariantCulture, $"![{Path.GetFileNameWithoutExtension(p)}]({p})");
        return b.ToString();
    }
}

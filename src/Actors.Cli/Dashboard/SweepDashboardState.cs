using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Runtime.Running;

namespace Actors.Cli.Dashboard;

/// <summary>
/// The dashboard of a sweep (<c>actors sweep FILE --dashboard</c>): its grid, read from the sweep directory as the sweep writes
/// it: a cell with a summary.json is done (with its final accuracy), a cell directory with evaluation rows and no summary is
/// running (with its last step), the rest are left.
/// </summary>
public sealed class SweepDashboardState(string name, IReadOnlyList<SweepCell> cells, string outDir) : IDashboardSource
{
    public JsonObject Snapshot()
    {
        var grid = new JsonArray();
        int done = 0, running = 0;
        foreach (var cell in cells)
        {
            var dir = Path.Combine(outDir, "cells", cell.Id);
            var entry = new JsonObject { ["cell"] = cell.Group, ["seed"] = cell.Seed };
            if (Sweep.ReadSummary(Path.Combine(dir, "summary.json")) is { } summary)
            {
                done++;
                entry["state"] = "done";
                entry["final_test_accuracy"] = summary["final_test_accuracy"]?.DeepClone();
            }
            else if (LastStep(Path.Combine(dir, "metrics.csv")) is { } step)
            {
                running++;
                entry["state"] = "running";
                entry["step"] = step;
            }
            else
            {
                entry["state"] = "left";
            }
            grid.Add(entry);
        }
        return new JsonObject
        {
            ["name"] = name,
            ["sweep"] = true,
            ["cells"] = grid,
            ["done"] = done,
            ["running"] = running,
            ["left"] = cells.Count - done - running,
        };
    }

    public string Prometheus()
    {
        var s = Snapshot();
        var sb = new StringBuilder("# HELP actors_sweep_cells sweep cells by state\n# TYPE actors_sweep_cells gauge\n");
        foreach (var state in new[] { "done", "running", "left" })
            sb.Append(CultureInfo.InvariantCulture, $"actors_sweep_cells{{state=\"{state}\"}} {s[state]!.GetValue<int>()}\n");
        return sb.ToString();
    }

    private static long? LastStep(string metrics)
    {
        try
        {
            if (!File.Exists(metrics)) return null;
            using var f = new FileStream(metrics, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var r = new StreamReader(f);
            var rows = r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
            return rows.Count > 0 && long.TryParse(rows[^1].Split(',')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var step) ? step : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose()
    {
    }
}

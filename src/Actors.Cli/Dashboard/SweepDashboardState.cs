using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Runtime.Output;
using Actors.Runtime.Running;

namespace Actors.Cli.Dashboard;

/// <summary>
/// The dashboard of a sweep (<c>actors sweep FILE --dashboard</c>): its grid, read from the sweep directory as the sweep writes
/// it: a cell with a summary.json is done (with its final accuracy), a cell directory with evaluation rows and no summary is
/// running (with its last step), the rest are left.
/// </summary>
public sealed class SweepDashboardState : IDashboardSource
{
    private readonly string name;
    private readonly IReadOnlyList<SweepCell> cells;
    private readonly string outDir;
    private readonly Meter _meter = new(DashboardMeters.Name);

    public SweepDashboardState(string name, IReadOnlyList<SweepCell> cells, string outDir)
    {
        (this.name, this.cells, this.outDir) = (name, cells, outDir);
        _meter.CreateObservableGauge("actors_sweep_cells", () =>
        {
            var s = Snapshot();
            return new[] { "done", "running", "left" }.Select(state => new Measurement<long>(s[state]!.GetValue<int>(), new KeyValuePair<string, object?>("state", state))).ToArray();
        }, description: "sweep cells by state");
    }

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
            else if (LiveMetrics.LastStep(Path.Combine(dir, "metrics.csv")) is { } step)
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

    public string MeterName => DashboardMeters.Name;

    public void Dispose() => _meter.Dispose();
}

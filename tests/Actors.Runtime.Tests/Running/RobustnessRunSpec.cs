using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.Running;

public class RobustnessRunSpec
{
    private static readonly string[] Byzantine = ["workers.honest=8", "workers.byzantine=2", "experiment.steps=40", "optimizer.momentum=0.9", "optimizer.lr=0.02"];

    [Fact]
    public async Task Bitflip_hurts_the_mean_more_than_centered_clipping()
    {
        var baseline = await RunHelper.Run([.. Byzantine, "workers.byzantine=0", "attack.type=none"]);
        var mean = await RunHelper.Run([.. Byzantine, "attack.type=bitflip", "aggregator.type=mean", "attack.type=ipm", "attack.eps=100"]);
        var cclip = await RunHelper.Run([.. Byzantine, "attack.type=bitflip", "aggregator.type=cclip", "attack.type=ipm", "attack.eps=100", "aggregator.tau=1"]);
        Assert.True(mean.Summary.D("final_test_accuracy") < baseline.Summary.D("final_test_accuracy") - 0.2, "IPM with eps 100 must break the plain mean");
        Assert.True(cclip.Summary.D("final_test_accuracy") > mean.Summary.D("final_test_accuracy") + 0.1, "centered clipping must resist it");
    }

    [Fact]
    public async Task Flood_messages_beyond_one_per_round_are_dropped_as_duplicates()
    {
        var r = await RunHelper.Run([.. Byzantine, "attack.type=flood", "attack.rate=5", "aggregator.type=median"]);
        Assert.Equal(2 * 4 * 40, r.Summary["updates_dropped"]!["duplicate"]!.GetValue<long>()); // 2 attackers, 4 extra messages, 40 rounds
        Assert.Equal(40 * 10, r.Summary.D("updates_applied"));
    }

    [Theory]
    [InlineData("workers.byzantine=12", "aggregator.type=median", "median")]
    [InlineData("aggregator.type=krum", "workers.byzantine=6", "krum")]
    [InlineData("attack.type=alie", "attack.omniscient=off", "needs attack.omniscient = on")]
    [InlineData("attack.type=nonsense", "workers.byzantine=2", "valid: none, bitflip")]
    public void Impossible_robustness_settings_are_rejected(string a, string b, string message)
    {
        var e = Assert.Throws<ExperimentConfigException>(() => ExperimentKinds.Load(null, [.. RunHelper.Small, .. Byzantine, "attack.type=bitflip", a, b]));
        Assert.Contains(message, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A sweep file over a small synthetic logreg experiment (10 steps) in a fresh folder, plus <paramref name="rest"/>.</summary>
    private static (string Dir, string Grid) WriteGrid(string rest)
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-sweep-test", Guid.NewGuid().ToString("N"));
        var grid = Path.Combine(dir, "grid.hocon");
        Directory.CreateDirectory(dir);
        File.WriteAllText(grid, """
            experiment { steps = 10, eval-every = 10 }
            data { dataset = synthetic, synthetic { train = 500, test = 200 } }
            model.type = logreg

            """ + rest);
        return (dir, grid);
    }

    [Fact]
    public async Task Sweep_runs_the_grid_resumes_and_writes_the_table()
    {
        var (dir, grid) = WriteGrid("""
            workers { honest = 4, byzantine = 1 }
            attack.type = bitflip
            sweep {
              axes { "aggregator.type" = [mean, median] }
              seeds = [1, 2]
              baselines = [ { "workers.byzantine" = 0, "attack.type" = none } ]
            }
            """);
        var lines = new List<string>();
        Assert.Equal(0, await Sweep.Run(grid, [], Path.Combine(dir, "out"), 2, lines.Add, _ => { }, default));
        Assert.Equal(6, Directory.GetDirectories(Path.Combine(dir, "out", "cells")).Length);
        var table = File.ReadAllText(Path.Combine(dir, "out", "results.md"));
        Assert.Contains("| median |", table);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(dir, "out", "results.csv")).Length);
        Assert.True(File.Exists(Path.Combine(dir, "out", "heatmap.png")));

        lines.Clear();
        Assert.Equal(0, await Sweep.Run(grid, [], Path.Combine(dir, "out"), 2, lines.Add, _ => { }, default));
        Assert.Contains("(6 already finished)", lines[0]);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task A_sweep_of_another_kind_reports_that_kinds_figures_mean_and_std()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-sweep-test", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var grid = Path.Combine(dir, "grid.hocon");
        File.WriteAllText(grid, """
            experiment { kind = game, steps = 12, eval-every = 6 }
            workers.honest = 2
            optimizer { lr = 0.3, momentum = 0 }
            game.type = bilinear
            sweep {
              axes { "optimizer.lookahead.k" = [0, 6] }
              seeds = [1, 2]
            }
            """);
        Assert.Equal(0, await Sweep.Run(grid, [], Path.Combine(dir, "out"), 2, _ => { }, _ => { }, default));
        var table = File.ReadAllText(Path.Combine(dir, "out", "results.md"));
        Assert.Contains("distance_to_equilibrium (mean ± std)", table, StringComparison.Ordinal);
        Assert.DoesNotContain("test accuracy", table, StringComparison.Ordinal); // a game has no accuracy: no column of zeros
        Assert.Contains("| 0 | 2.372 ± 0 |", table, StringComparison.Ordinal); // GDA from (1, 1): sqrt(2) * sqrt(1.09)^12, the same for both seeds
        var csv = File.ReadAllLines(Path.Combine(dir, "out", "results.csv"));
        Assert.EndsWith(",distance_to_equilibrium", csv[0], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dir, "out", "heatmap.png")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task A_diverged_cell_is_a_result_row_and_a_truncated_summary_is_run_again()
    {
        var (dir, grid) = WriteGrid("""
            sweep {
              axes { "optimizer.lr" = [0.05, 1e38] }
              seeds = [1]
            }
            """);
        var lines = new List<string>();
        var outDir = Path.Combine(dir, "out");
        Assert.Equal(0, await Sweep.Run(grid, [], outDir, 1, lines.Add, _ => { }, default)); // a diverged cell is not a failed sweep
        var rows = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        Assert.Equal(3, rows.Length);
        Assert.EndsWith(",diverged", rows[0], StringComparison.Ordinal);
        Assert.Contains(rows, r => r.Contains("1e38", StringComparison.Ordinal) && r.EndsWith(",true", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("(diverged)", StringComparison.Ordinal));

        // A summary.json cut off mid-write is not a finished cell: the sweep says so and runs it again.
        var cut = Directory.GetDirectories(Path.Combine(outDir, "cells")).Select(d => Path.Combine(d, "summary.json")).First();
        File.WriteAllText(cut, File.ReadAllText(cut)[..40]);
        lines.Clear();
        Assert.Equal(0, await Sweep.Run(grid, [], outDir, 1, lines.Add, _ => { }, default));
        Assert.Contains(lines, l => l.Contains(cut, StringComparison.Ordinal) && l.Contains("does not parse", StringComparison.Ordinal));
        Assert.Contains("(1 already finished)", lines.First(l => l.Contains("already finished", StringComparison.Ordinal)));
        Assert.NotNull(Sweep.ReadSummary(cut));
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task A_cancelled_sweep_still_writes_the_table_of_the_cells_it_finished()
    {
        var (dir, grid) = WriteGrid("""
            sweep {
              axes { "optimizer.lr" = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08] }
              seeds = [1]
            }
            """);
        using var cancel = new CancellationTokenSource();
        var lines = new List<string>();
        void Report(string line)
        {
            lines.Add(line);
            if (line.StartsWith("[1/", StringComparison.Ordinal)) cancel.Cancel(); // stop after the first finished cell
        }
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sweep.Run(grid, [], Path.Combine(dir, "out"), 1, Report, _ => { }, cancel.Token));
        var rows = File.ReadAllLines(Path.Combine(dir, "out", "results.csv"));
        Assert.InRange(rows.Length - 1, 1, 7); // the header, the finished cells, not all eight
        Directory.Delete(dir, true);
    }
}

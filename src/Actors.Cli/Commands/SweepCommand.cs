using System.ComponentModel;
using Actors.Runtime.Engine;
using Actors.Runtime.Running;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

public sealed class SweepCommand : AsyncCommand<SweepCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<GRID>")]
        [Description("An experiment file with a sweep { axes { \"key\" = [[values]] }, seeds = [[...]], baselines = [[ { key = value } ]] } block.")]
        public string File { get; init; } = "";

        [CommandOption("-o|--out <DIR>")]
        [Description("Sweep directory (default: runs/sweep-<file name>). Re-running with the same directory resumes: finished cells are skipped.")]
        public string? Out { get; init; }

        [CommandOption("-s|--set <KEY=VALUE>")]
        [Description("Override an experiment key for every cell (repeatable).")]
        public string[] Set { get; init; } = [];

        [CommandOption("-p|--parallel <N>")]
        [Description("Cells run at the same time (default: the number of cores).")]
        public int? Parallel { get; init; }

        [CommandOption("--plan")]
        [Description("Only list the cells, run nothing.")]
        public bool PlanOnly { get; init; }

        [CommandOption("--dashboard [PORT]")]
        [Description("Serve a live, read-only page of the grid (cells done, running with their step, left) at http://127.0.0.1:PORT/ (default 8090; 0 picks a free port).")]
        public FlagValue<int>? Dashboard { get; init; }

        [CommandOption("--dashboard-bind <ADDRESS>")]
        [Description("Where the dashboard listens (default 127.0.0.1). 0.0.0.0 exposes the sweep's figures to the network, unauthenticated.")]
        public string DashboardBind { get; init; } = "127.0.0.1";

        [CommandOption("--report")]
        [Description("Only write results.md/.csv and heatmap.png from the cells finished so far, run nothing.")]
        public bool ReportOnly { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.PlanOnly)
        {
            var (_, cells) = Sweep.Plan(settings.File, settings.Set);
            foreach (var c in cells) AnsiConsole.WriteLine($"{c.Id}");
            AnsiConsole.WriteLine($"{cells.Count} runs");
            return 0;
        }
        var outDir = settings.Out ?? Path.Combine("runs", "sweep-" + Path.GetFileNameWithoutExtension(settings.File));
        if (settings.ReportOnly)
        {
            var (_, cells) = Sweep.Plan(settings.File, settings.Set);
            Sweep.WriteResults(cells, outDir);
            AnsiConsole.MarkupLineInterpolated($"results: {Path.Combine(outDir, "results.md")}");
            return 0;
        }
        await using var dashboard = await Dashboard.DashboardServer.StartIfAsked(settings.Dashboard, context.Arguments, settings.DashboardBind,
            () => new Dashboard.SweepDashboardState(Path.GetFileNameWithoutExtension(settings.File), Sweep.Plan(settings.File, settings.Set).Cells, outDir)).ConfigureAwait(false);
        using var stop = new StopSignal(cancellation); // Ctrl-C or SIGTERM: stop, report the finished cells; a re-run resumes
        int failed = await Sweep.Run(settings.File, settings.Set, outDir, settings.Parallel ?? Environment.ProcessorCount,
            line => Console.WriteLine(line), ErrorHandling.Warn, stop.Token).ConfigureAwait(false);
        AnsiConsole.MarkupLineInterpolated($"results: {Path.Combine(outDir, "results.md")}, {Path.Combine(outDir, "results.csv")}, {Path.Combine(outDir, "heatmap.png")}");
        return failed == 0 ? 0 : 1;
    }
}

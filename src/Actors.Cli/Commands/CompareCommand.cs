using System.ComponentModel;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

/// <summary><c>actors compare RUN_DIR... [--out DIR]</c>: overlaid curves, a table of final figures and the config keys that differ.</summary>
public sealed class CompareCommand : Command<CompareCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN_DIR>")]
        [Description("Run directories to compare; a sweep directory stands for its finished cells.")]
        public string[] Runs { get; init; } = [];

        [CommandOption("-o|--out <DIR>")]
        [Description("Where to write compare.md, compare.csv and the plots (default: runs/compare-<timestamp>).")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var dirs = RunComparison.Expand(settings.Runs);
        if (dirs.Count == 0) throw new UserInputException("nothing to compare: give run directories (or a sweep directory with finished cells)");
        var runs = dirs.Select(RunComparison.Read).ToList();
        var outDir = settings.Out ?? Path.Combine("runs", $"compare-{DateTime.Now:yyyyMMdd-HHmmss}");
        var files = RunComparison.Write(runs, outDir);
        AnsiConsole.MarkupLineInterpolated($"compared {runs.Count} runs -> {outDir}: {string.Join(", ", files)}");
        return 0;
    }
}

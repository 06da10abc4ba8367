using System.ComponentModel;
using Actors.Runtime.Running;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

/// <summary><c>actors convert-attention RUN_DIR --key-dim D [--out DIR]</c>: standard attention of a trained transformer, re-parametrized as collaborative.</summary>
public sealed class ConvertAttentionCommand : Command<ConvertAttentionCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN_DIR>")]
        [Description("The run directory of a trained transformer with standard attention (it holds config.hocon and model.safetensors).")]
        public string Run { get; init; } = "";

        [CommandOption("-k|--key-dim <D>")]
        [Description("The shared query/key width of the collaborative layers: 1 to heads x head_dim (that one is exact).")]
        public int KeyDim { get; init; }

        [CommandOption("-o|--out <DIR>")]
        [Description("Where to write the converted run (default: RUN_DIR-collaborative-D next to it).")]
        public string? Out { get; init; }

        [CommandOption("--force")]
        [Description("Replace an earlier run's files in --out.")]
        public bool Force { get; init; }

        public override ValidationResult Validate() =>
            KeyDim < 1 ? ValidationResult.Error("--key-dim D is required: the shared key dimension, 1 to heads x head_dim") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var outDir = settings.Out ?? settings.Run.TrimEnd('/', '\\') + $"-collaborative-{settings.KeyDim}";
        var o = AttentionConversionRun.Run(settings.Run, settings.KeyDim, outDir, settings.Force, line => AnsiConsole.WriteLine(line));
        AnsiConsole.MarkupLineInterpolated(
            $"test accuracy {100 * o.OriginalAccuracy:0.00} % -> {100 * o.Accuracy:0.00} % at key-dim {o.KeyDim}, {o.OriginalParameters:N0} -> {o.Parameters:N0} parameters, worst CP fit error {o.WorstFitError:0.######} -> {o.OutDir}");
        return 0;
    }
}

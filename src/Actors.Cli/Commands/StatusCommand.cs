using System.ComponentModel;
using System.Text.Json;
using Actors.Runtime.Cluster;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

/// <summary><c>actors status --cluster ADDRESS [--json]</c>: the cluster's members and runs, as its coordinator sees them.</summary>
public sealed class StatusCommand : AsyncCommand<StatusCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-c|--cluster <ADDRESS>")]
        [Description("A seed or node of the cluster: host:port or akka.tcp://actors@host:port.")]
        public string Cluster { get; init; } = "";

        [CommandOption("--json")]
        [Description("Print the status as one JSON object (members, runs) for scripts.")]
        public bool Json { get; init; }

        [CommandOption("--connect-timeout <SECONDS>")]
        [Description("How long to wait for the node to answer (default 10).")]
        public double ConnectTimeout { get; init; } = 10;

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Cluster) ? ValidationResult.Error("--cluster ADDRESS is required: a seed or node, e.g. 127.0.0.1:4053") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var status = await ClusterRunClient.Status(settings.Cluster, TimeSpan.FromSeconds(settings.ConnectTimeout)).ConfigureAwait(false);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { members = status.Members, runs = status.Runs }, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            return 0;
        }
        var members = new Table().AddColumns("member", "roles", "status", "reachable", "updates/s");
        foreach (var m in status.Members)
            members.AddRow(Markup.Escape(m.Address), string.Join(",", m.Roles), m.Status, m.Reachable ? "yes" : "[red]no[/]", m.UpdatesPerSecond.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture));
        AnsiConsole.Write(members);
        if (status.Runs.Length == 0)
        {
            AnsiConsole.WriteLine("no runs yet");
            return 0;
        }
        var runs = new Table().AddColumns("run", "name", "state", "step", "outcome");
        foreach (var r in status.Runs) runs.AddRow(r.RunId, Markup.Escape(r.Name), r.State, $"{r.Step}/{r.Steps}", Markup.Escape(r.Outcome));
        AnsiConsole.Write(runs);
        return 0;
    }
}

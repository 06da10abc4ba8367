using System.ComponentModel;
using Actors.Runtime.Cluster;
using Actors.Runtime.Experiments;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

/// <summary>Options every node verb shares.</summary>
public class NodeSettings : CommandSettings
{
    [CommandOption("--host <HOST>")]
    [Description("Address to bind and advertise (default 127.0.0.1; ACTORS_HOST).")]
    public string? Host { get; init; }

    [CommandOption("--port <PORT>")]
    [Description("Akka remoting port (seed default 4053, nodes 0 = any free port).")]
    public int? Port { get; init; }

    [CommandOption("-s|--set <KEY=VALUE>")]
    [Description("Override one Akka/actors config key, e.g. --set akka.loglevel=DEBUG (repeatable).")]
    public string[] Set { get; init; } = [];

    [CommandOption("--discovery <METHOD>")]
    [Description("Form the cluster without a seed list, by Akka's cluster bootstrap: 'config' (the nodes' management endpoints given by --contact-point) or 'kubernetes' (pods labelled app=ACTORS_SERVICE_NAME, default actors, found through the Kubernetes API). ACTORS_DISCOVERY.")]
    public string? Discovery { get; init; }

    [CommandOption("--contact-point <HOST:PORT>")]
    [Description("A node's management endpoint, for --discovery config (repeatable; list every node that forms the cluster, this one included). ACTORS_CONTACT_POINTS.")]
    public string[] ContactPoint { get; init; } = [];

    [CommandOption("--management-port <PORT>")]
    [Description("Serve the management endpoint (cluster bootstrap, /alive, /ready) on this port (default 8558 with --discovery; off without either). ACTORS_MANAGEMENT_PORT.")]
    public int? ManagementPort { get; init; }

    internal ClusterConfigOptions Options(IReadOnlyList<string> roles, IReadOnlyList<string> seeds) => new()
    {
        Roles = roles, Host = Host, Port = Port, Seeds = seeds, Overrides = Set, Discovery = Discovery, ContactPoints = ContactPoint, ManagementPort = ManagementPort,
    };
}

/// <summary><c>actors node --seed ADDRESS --roles worker|aggregator|coordinator[,..]</c>: joins a cluster and serves until Ctrl-C.</summary>
public sealed class NodeCommand : AsyncCommand<NodeCommand.Settings>
{
    public sealed class Settings : NodeSettings
    {
        [CommandOption("--seed <ADDRESS>")]
        [Description("Seed node: host:port or akka.tcp://actors@host:port (repeatable; ACTORS_SEEDS).")]
        public string[] Seed { get; init; } = [];

        [CommandOption("--roles <ROLES>")]
        [Description("Comma separated: worker, aggregator, coordinator, byzantine (hosts a run's Byzantine workers when any node has it; default worker).")]
        public string Roles { get; init; } = "worker";
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var roles = settings.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var r in roles)
            if (r is not ("worker" or "aggregator" or "coordinator" or "byzantine" or "seed"))
                throw new UserInputException($"--roles '{r}' is not valid (valid: worker, aggregator, coordinator, byzantine)");
        bool discovery = settings.Discovery is not null || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("ACTORS_DISCOVERY"));
        if (!discovery && settings.Seed.Length == 0 && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("ACTORS_SEEDS")))
            throw new UserInputException("--seed is required (host:port of the seed node, or set ACTORS_SEEDS), or --discovery config|kubernetes");
        return Serve(settings.Options(roles, settings.Seed), "node", cancellation);
    }

    /// <summary>Starts the node, prints its address, and runs until Ctrl-C/SIGTERM or until the node leaves the cluster.</summary>
    internal static async Task<int> Serve(ClusterConfigOptions options, string what, CancellationToken cancellation)
    {
        using var stop = new StopSignal(cancellation);
        await ClusterNode.Serve(options, what, Console.WriteLine, stop.Token).ConfigureAwait(false);
        return 0;
    }
}

/// <summary><c>actors seed [--host H --port P]</c>: the contact point; carries the coordinator singleton.</summary>
public sealed class SeedCommand : AsyncCommand<SeedCommand.Settings>
{
    public sealed class Settings : NodeSettings
    {
        [CommandOption("--roles <ROLES>")]
        [Description("Extra roles besides seed and coordinator, e.g. aggregator.")]
        public string Roles { get; init; } = "";

        [CommandOption("--dashboard [PORT]")]
        [Description("Serve a live, read-only page of the cluster (members, reachability, runs) at http://127.0.0.1:PORT/ (default 8090; 0 picks a free port).")]
        public FlagValue<int>? Dashboard { get; init; }

        [CommandOption("--dashboard-bind <ADDRESS>")]
        [Description("Where the dashboard listens (default 127.0.0.1). 0.0.0.0 exposes the cluster's members and runs to the network, unauthenticated.")]
        public string DashboardBind { get; init; } = "127.0.0.1";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var roles = new[] { "seed", "coordinator" }.Concat(settings.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToArray();
        await using var dashboard = await Dashboard.DashboardServer.StartIfAsked(settings.Dashboard, context.Arguments, settings.DashboardBind,
            () => new Dashboard.ClusterDashboardState($"{settings.Host ?? "127.0.0.1"}:{settings.Port ?? 4053}")).ConfigureAwait(false);
        return await NodeCommand.Serve(settings.Options(roles, []), "seed", cancellation)
            .ConfigureAwait(false);
    }
}

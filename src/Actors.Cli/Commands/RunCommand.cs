using System.ComponentModel;
using System.Globalization;
using Actors.Runtime.Cluster;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Actors.Runtime.Running;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

public sealed class RunCommand : AsyncCommand<RunCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[EXPERIMENT]")]
        [Description("Experiment file (HOCON). Default: cluster-config/experiments/default.hocon.")]
        public string? File { get; init; }

        [CommandOption("-s|--set <KEY=VALUE>")]
        [Description("Override one experiment key, e.g. --set aggregator.type=cclip (repeatable; later wins).")]
        public string[] Set { get; init; } = [];

        [CommandOption("-o|--out <DIR>")]
        [Description("The run directory to write (default: runs/<timestamp>-<name>/).")]
        public string? Out { get; init; }

        [CommandOption("--cluster <ADDRESS>")]
        [Description("Run on a cluster: host:port or akka.tcp://actors@host:port of a node (e.g. the seed). Implies experiment.mode = realtime.")]
        public string? Cluster { get; init; }

        [CommandOption("--connect-timeout <SECONDS>")]
        [Description("With --cluster: how long to wait for the node at ADDRESS to answer before giving up (default 10).")]
        public double? ConnectTimeout { get; init; }

        [CommandOption("-f|--force")]
        [Description("Replace an earlier run in the --out directory (without it, a non-empty run directory is refused), and run even when the memory estimate exceeds the available memory.")]
        public bool Force { get; init; }

        [CommandOption("-q|--quiet")]
        [Description("No live progress; print only the final line.")]
        public bool Quiet { get; init; }

        [CommandOption("--dashboard [PORT]")]
        [Description("Serve a live, read-only dashboard of the run (step, ETA, accuracy and loss curves, counters, config; /metrics in Prometheus text) at http://127.0.0.1:PORT/ (default 8090; 0 picks a free port). It prints the address.")]
        public FlagValue<int>? Dashboard { get; init; }

        [CommandOption("--dashboard-bind <ADDRESS>")]
        [Description("Where the dashboard listens (default 127.0.0.1, this machine only). 0.0.0.0 exposes the run's config and figures to anyone who reaches this machine: read-only, but unauthenticated.")]
        public string DashboardBind { get; init; } = "127.0.0.1";

        [CommandOption("--dashboard-hold <SECONDS>")]
        [Description("Keep the dashboard up this long after the run ended (default 0), so the final figures can be seen.")]
        public double DashboardHold { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        var file = settings.File ?? DefaultExperiment.Find()
            ?? throw new ExperimentConfigException("no experiment file given and cluster-config/experiments/default.hocon not found (run from the repository root or pass a file)");
        var overrides = settings.Set;
        if (settings.Cluster is not null)
        {
            ClusterConfig.NormalizeSeed(settings.Cluster); // a bad address is bad input, before anything else
            ClusterMode.CheckNotSimulation(file, settings.Set);
            overrides = [.. settings.Set, "experiment.mode=realtime"];
        }
        if (settings.ConnectTimeout is { } ct && (ct <= 0 || double.IsNaN(ct) || ct > 3600))
            throw new UserInputException($"--connect-timeout {ct.ToString(CultureInfo.InvariantCulture)} is not valid (seconds, more than 0 and at most 3600)");
        var spec = ExperimentKinds.Load(file, overrides);
        var kind = ExperimentKinds.Of(spec);
        if (settings.Cluster is not null && ClusterKinds.Refusal(spec) is { } refusal) throw new UserInputException($"not on a cluster: {refusal}");
        var outDir = settings.Out ?? RunDirectory.DefaultPath(spec.Name, DateTime.Now);
        var estimate = settings.Cluster is null ? kind.EstimateBytes(spec) : null;
        if (estimate is { } bytes) MemoryBudget.Check(spec, bytes, MemoryBudget.AvailableBytes(), settings.Force);
        if (settings.Cluster is null) spec.Compute.Check(); // on a cluster, each node checks its own device
        var connectTimeout = settings.ConnectTimeout is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        if (settings.Cluster is { } target) await ClusterRunClient.Probe(target, connectTimeout, cancellation).ConfigureAwait(false); // before the run directory exists
        RunDirectory.Claim(outDir, settings.Force); // before any data is loaded: a directory that cannot be written, or holds an earlier run
        var progress = new RunProgress(spec.Steps);
        AnsiConsole.MarkupLineInterpolated($"[bold]{spec.Name}[/]: {spec.Model.Architecture} on {spec.Data.Dataset}, {Participants(spec)}, {ConfigEnum.Name(spec.Timing.Mode)} timing, {spec.Mode} mode, {spec.Steps} steps -> {outDir} (data: {Learning.Data.DatasetLocator.Describe(spec.Data.Dataset, spec.Data.Path)}{(estimate is { } e ? $", peak memory ~{MemoryBudget.Gib(e)}" : "")})");
        if (kind.Banner(spec) is { } banner) AnsiConsole.WriteLine(banner);

        await using var dashboard = await Dashboard.DashboardServer.StartIfAsked(settings.Dashboard, context.Arguments, settings.DashboardBind,
            () => new Dashboard.DashboardState(spec.Name, outDir, progress)).ConfigureAwait(false);

        using var stop = new StopSignal(cancellation); // Ctrl-C or SIGTERM: cancel the run; rows written so far stay
        var run = settings.Cluster is { } address
            ? Task.Run(() => ClusterRunClient.Run(spec, address, outDir, progress, m => Console.WriteLine(m), stop.Token, connectTimeout), stop.Token)
            : Task.Run(() => ExperimentRunner.Run(spec, outDir, progress, ErrorHandling.Warn, stop.Token), stop.Token);
        if (!settings.Quiet) await ShowProgress(run, progress).ConfigureAwait(false);
        var result = await run.ConfigureAwait(false);

        var s = result.Summary;
        AnsiConsole.MarkupLineInterpolated(
            $"[green]done[/]: test accuracy {Fmt(s["final_test_accuracy"], "P2")}, loss {Fmt(s["final_test_loss"], "0.0000")}, {s["steps"]} steps in {Fmt(s["wall_time_s"], "0.0")} s wall ({Fmt(s["virtual_time_s"], "0.00")} s virtual) -> {result.Directory}");
        if (result.Warning is { } warning) AnsiConsole.MarkupLineInterpolated($"[yellow]warning[/]: {warning}");
        if (s["final_suboptimality"] is { } sub) AnsiConsole.WriteLine($"final suboptimality {Fmt(sub, "E3")}, consensus distance {Fmt(s["consensus_distance"], "E3")}, {s["bytes_sent"]} bytes sent");
        if (dashboard is not null && settings.DashboardHold > 0)
        {
            Console.WriteLine($"dashboard: {dashboard.Url} stays up for {settings.DashboardHold:0.#} s (Ctrl-C ends it)");
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(settings.DashboardHold, 86_400)), stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C: done
            }
        }
        return 0;
    }

    /// <summary>Who takes part, for the banner: gossip nodes on their topology, or workers and the aggregator.</summary>
    private static string Participants(ExperimentSpec spec)
    {
        if (spec.Kind != Runtime.Gossip.GossipKind.KindName) return $"{spec.Workers.Honest}+{spec.Workers.Byzantine} workers, {spec.Aggregator.Type}";
        var g = Runtime.Gossip.GossipSection.Of(spec);
        return $"{g.Topology.Nodes} gossip nodes ({g.Algorithm}, {g.Topology.Type})";
    }

    /// <summary>A summary.json number for the terminal; a non-finite figure (null in summary.json) reads "n/a".</summary>
    private static string Fmt(System.Text.Json.Nodes.JsonNode? n, string format) =>
        n is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<double>(out var d) ? d.ToString(format, CultureInfo.InvariantCulture)
        : n is System.Text.Json.Nodes.JsonValue l && l.TryGetValue<long>(out var i) ? i.ToString(format, CultureInfo.InvariantCulture)
        : "n/a";

    /// <summary>A live bar with step, loss, accuracy and ETA; plain lines when the output is not a terminal.</summary>
    private static async Task ShowProgress(Task run, RunProgress progress)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("training", maxValue: progress.TotalSteps);
                    while (!run.IsCompleted)
                    {
                        task.Value = progress.Step;
                        task.Description = Describe(progress);
                        await Task.WhenAny(run, Task.Delay(200)).ConfigureAwait(false);
                    }
                    task.Value = progress.Step;
                    task.Description = Describe(progress);
                }).ConfigureAwait(false);
            return;
        }
        var started = DateTime.UtcNow;
        var last = DateTime.MinValue;
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(500)).ConfigureAwait(false);
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(5) || run.IsCompleted) continue;
            last = DateTime.UtcNow;
            var step = progress.Step;
            var elapsed = DateTime.UtcNow - started;
            var eta = step > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (progress.TotalSteps - step) / step) : TimeSpan.Zero;
            Console.WriteLine($"{Describe(progress)}  elapsed {elapsed:mm\\:ss}  eta {eta:mm\\:ss}");
        }
    }

    private static string Describe(RunProgress p) =>
        double.IsNaN(p.LastAccuracy)
            ? $"step {p.Step}/{p.TotalSteps}"
            : string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps}  loss {p.LastLoss:0.000}  acc {p.LastAccuracy:P1}");
}

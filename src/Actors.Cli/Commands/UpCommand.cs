using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Actors.Runtime.Experiments;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

/// <summary>
/// <c>actors up --nodes N</c>: a local multi-process cluster on loopback, child processes of this one: a seed (coordinator and
/// aggregator roles) and N-1 worker nodes. Prints the seed address; Ctrl-C stops them all, and the children stop by
/// themselves when this process is killed (<see cref="Runtime.Cluster.ParentWatch"/>).
/// </summary>
public sealed class UpCommand : AsyncCommand<UpCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-n|--nodes <N>")]
        [Description("Processes in all, the seed included (default 3).")]
        public int Nodes { get; init; } = 3;

        [CommandOption("--port <PORT>")]
        [Description("Seed port (default 4053).")]
        public int Port { get; init; } = 4053;

        [CommandOption("-s|--set <KEY=VALUE>")]
        [Description("Passed to every node.")]
        public string[] Set { get; init; } = [];

        [CommandOption("--dashboard [PORT]")]
        [Description("Serve a live, read-only page of the cluster (members with roles and reachability, runs queued/running/done) at http://127.0.0.1:PORT/ (default 8090; 0 picks a free port).")]
        public FlagValue<int>? Dashboard { get; init; }

        [CommandOption("--dashboard-bind <ADDRESS>")]
        [Description("Where the dashboard listens (default 127.0.0.1). 0.0.0.0 exposes the cluster's members and runs to the network, unauthenticated.")]
        public string DashboardBind { get; init; } = "127.0.0.1";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        if (settings.Nodes < 2) throw new UserInputException($"--nodes {settings.Nodes} is not valid (at least 2: a seed and one worker node)");
        var seed = $"127.0.0.1:{settings.Port.ToString(CultureInfo.InvariantCulture)}";
        var sets = settings.Set.SelectMany(s => new[] { "--set", s }).ToArray();
        var children = new List<Process>();
        using var stop = new StopSignal(cancellation);
        try
        {
            children.Add(Spawn(["seed", "--host", "127.0.0.1", "--port", settings.Port.ToString(CultureInfo.InvariantCulture), "--roles", "aggregator", .. sets], "seed"));
            for (int i = 1; i < settings.Nodes; i++)
                children.Add(Spawn(["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker", .. sets], $"node{i}"));
            Console.WriteLine($"cluster of {settings.Nodes} processes; seed akka.tcp://actors@{seed}");
            Console.WriteLine($"run an experiment: actors run EXPERIMENT --cluster {seed}    (Ctrl-C here stops the cluster)");
            await using var dashboard = await Dashboard.DashboardServer.StartIfAsked(settings.Dashboard, context.Arguments, settings.DashboardBind,
                () => new Dashboard.ClusterDashboardState(seed)).ConfigureAwait(false);
            // A worker node that exits is a node lost (the cluster and its runs carry on); the seed exiting ends the cluster.
            for (int i = 1; i < children.Count; i++)
            {
                var (child, name) = (children[i], $"node{i}");
                _ = child.WaitForExitAsync(stop.Token).ContinueWith(
                    t => { if (t.IsCompletedSuccessfully) Console.WriteLine($"{name} exited ({child.ExitCode}); the cluster carries on without it"); },
                    TaskScheduler.Default);
            }
            await children[0].WaitForExitAsync(stop.Token).ConfigureAwait(false);
            return stop.IsStopRequested ? 0 : 1;
        }
        catch (OperationCanceledException) when (stop.IsStopRequested)
        {
            return 0;
        }
        finally
        {
            foreach (var c in children)
            {
                try
                {
                    if (!c.HasExited) c.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }
                c.Dispose();
            }
        }
    }

    /// <summary>Starts this same program (apphost or <c>dotnet actors.dll</c>) with a verb; its output is prefixed with its name.</summary>
    internal static Process Spawn(string[] args, string name)
    {
        var info = SelfStartInfo(args);
        info.Environment[Runtime.Cluster.ParentWatch.Variable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture); // the child stops when this process is gone
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var p = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine($"[{name}] {e.Data}"); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[{name}] {e.Data}"); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    internal static ProcessStartInfo SelfStartInfo(IEnumerable<string> args)
    {
        var dll = typeof(UpCommand).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        var info = Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase) || !File.Exists(host) || host.EndsWith("testhost", StringComparison.Ordinal)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { dll } }
            : new ProcessStartInfo(host);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.UseShellExecute = false;
        return info;
    }
}

using Actors.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli;

/// <summary>The `actors` command: verbs and their help. Exit codes are in <see cref="ErrorHandling"/>.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive) AnsiConsole.Profile.Width = 200; // no wrapping in logs
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("actors");
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.AddCommand<RunCommand>("run")
                .WithDescription("Run one experiment (default: cluster-config/experiments/default.hocon) and write its run directory.")
                .WithExample("run")
                .WithExample("run", "cluster-config/experiments/default.hocon", "--set", "aggregator.type=mean", "--set", "experiment.steps=100")
                .WithExample("run", "my.hocon", "--out", "runs/my-run");
            config.AddCommand<SweepCommand>("sweep")
                .WithDescription("Run a grid of experiments (cartesian product x seeds, plus baselines), resumable; writes results.md/.csv and heatmap.png.")
                .WithExample("sweep", "cluster-config/experiments/bucketing-grid.hocon");
            config.AddCommand<CompareCommand>("compare")
                .WithDescription("Compare run directories (or a sweep directory): overlaid curves (PNG), a final-figure table (md + csv), the config keys that differ.")
                .WithExample("compare", "runs/a", "runs/b", "--out", "runs/a-vs-b");
            config.AddCommand<ConvertAttentionCommand>("convert-attention")
                .WithDescription("Convert a trained standard-attention transformer to collaborative attention of key dimension D (CP decomposition, no retraining); evaluates both, writes a new run directory.")
                .WithExample("convert-attention", "runs/transformer", "--key-dim", "32");
            config.AddCommand<SeedCommand>("seed")
                .WithDescription("Start a cluster seed node (carries the coordinator singleton).")
                .WithExample("seed", "--host", "10.0.0.1", "--port", "4053");
            config.AddCommand<NodeCommand>("node")
                .WithDescription("Start a cluster node with roles (worker, aggregator, coordinator) that joins a seed.")
                .WithExample("node", "--seed", "10.0.0.1:4053", "--roles", "worker");
            config.AddCommand<UpCommand>("up")
                .WithDescription("Start a local multi-process cluster on loopback (seed + N-1 nodes); Ctrl-C stops it.")
                .WithExample("up", "--nodes", "3");
            config.AddCommand<StatusCommand>("status")
                .WithDescription("List a cluster's members (roles, status, reachability) and its runs (queued, running with their step, done).")
                .WithExample("status", "--cluster", "127.0.0.1:4053");
            config.AddCommand<ConformalCommand>("conformal")
                .WithDescription("Conformal prediction: exact optimized full CP on a dataset, optionally side by side with standard CP.")
                .WithExample("conformal", "--dataset", "fashion-mnist", "--ncm", "knn", "--train", "2000", "--test", "200", "--features", "pca:50", "--standard");
        });
        return ErrorHandling.Run(() => app.Run(args));
    }
}

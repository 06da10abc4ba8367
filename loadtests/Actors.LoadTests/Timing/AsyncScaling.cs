using System.Globalization;
using Actors.Runtime.Engine;
using Actors.Runtime.Running;

namespace Actors.LoadTests.Timing;

/// <summary>
/// The async-scaling check (issue 14): the default experiment (Fashion-MNIST mlp, 10 workers, lr 0.1) with 20% stragglers
/// 10x slower, sync / async / buffered (K = 5) at the same number of applied updates, side by side; accuracy gap to sync
/// and virtual time ratio. Usage: async-scaling [updates=2000] [momentum=0.9]
/// </summary>
public static class AsyncScaling
{
    public static async Task<int> Run(string[] args)
    {
        int updates = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        string momentum = args.Length > 1 ? args[1] : "0.9";
        var file = Path.Combine(RepoRoot(), "cluster-config", "experiments", "default.hocon");
        string[] common = ["timing.stragglers.fraction=0.2", "timing.stragglers.slowdown=10", $"optimizer.momentum={momentum}"];
        var cells = new (string Name, string[] Sets)[]
        {
            ("sync", ["timing.mode=sync", $"experiment.steps={updates / 10}"]),
            ("async", ["timing.mode=async", $"experiment.steps={updates}"]),
            ("buffered K=5", ["timing.mode=buffered", "timing.buffer-size=5", $"experiment.steps={updates / 5}"]),
            ("async, raw (async-scaling = none)", ["timing.mode=async", "optimizer.async-scaling=none", $"experiment.steps={updates}"]),
        };
        Console.WriteLine($"async scaling: default experiment, 20% stragglers 10x, momentum {momentum}, {updates} updates applied in every mode");
        Console.WriteLine($"{"mode",-36} {"updates",8} {"accuracy",9} {"vs sync",8} {"virtual s",10} {"vs sync",8}");
        double syncAcc = 0, syncTime = 0;
        foreach (var (name, sets) in cells)
        {
            var spec = ExperimentKinds.Load(file, [.. common, .. sets, "experiment.eval-every=100000"]);
            var dir = Path.Combine(Path.GetTempPath(), "actors-async-scaling", Guid.NewGuid().ToString("N"));
            var r = await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), _ => { });
            double acc = r.Summary["final_test_accuracy"]!.GetValue<double>(), t = r.Summary["virtual_time_s"]!.GetValue<double>();
            if (name == "sync") (syncAcc, syncTime) = (acc, t);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-36} {r.Summary["updates_applied"],8} {acc,9:P2} {(acc - syncAcc) * 100,7:+0.00;-0.00}pt {t,10:0.00} {t / syncTime,8:0.00}x"));
            Directory.Delete(dir, true);
        }
        return 0;
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Actors.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Actors.sln not found above the binaries");
    }
}

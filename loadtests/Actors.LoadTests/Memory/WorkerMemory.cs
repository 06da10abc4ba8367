using System.Diagnostics;
using System.Globalization;
using Actors.Runtime.Engine;
using Actors.Runtime.Running;

namespace Actors.LoadTests.Memory;

/// <summary>
/// Peak memory (VmHWM) of a parameter-server run against the number of workers, each size in its own child process so
/// peaks do not mix, next to the estimate the run banner prints. Usage: memory [model=logreg,mlp] [workers=1000,10000,20000]
/// [steps=3]. The default experiment (Fashion-MNIST, momentum 0.9, sync) with workers.honest set.
/// </summary>
public static class WorkerMemory
{
    public const string ChildVerb = "memory-child";

    public static async Task<int> Run(string[] args)
    {
        var models = (args.Length > 0 ? args[0] : "logreg,mlp").Split(',');
        var sizes = (args.Length > 1 ? args[1] : "1000,10000,20000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        string steps = args.Length > 2 ? args[2] : "3";
        Console.WriteLine($"peak memory (VmHWM) of the default experiment by worker count, {steps} sync steps, one child process per run");
        Console.WriteLine($"{"model",-7} {"workers",8} {"estimate",10} {"peak",10} {"wall s",8}");
        foreach (var model in models)
            foreach (var n in sizes)
            {
                var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
                if (Path.GetFileNameWithoutExtension(info.FileName) == "dotnet") info.ArgumentList.Add(typeof(WorkerMemory).Assembly.Location);
                foreach (var a in new[] { ChildVerb, model, n.ToString(CultureInfo.InvariantCulture), steps }) info.ArgumentList.Add(a);
                var sw = Stopwatch.StartNew();
                using var p = Process.Start(info)!;
                var output = await p.StandardOutput.ReadToEndAsync();
                await p.WaitForExitAsync();
                var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                Console.WriteLine(p.ExitCode == 0 ? $"{model,-7} {n,8} {last} {sw.Elapsed.TotalSeconds,8:0.0}" : $"{model,-7} {n,8} failed (exit {p.ExitCode}): {last}");
            }
        return 0;
    }

    /// <summary>The child: one run, then "estimate peak" in GiB.</summary>
    public static async Task<int> RunChild(string[] args)
    {
        var spec = ExperimentKinds.Load(null, [$"model.type={args[0]}", $"workers.honest={args[1]}", $"experiment.steps={args[2]}", $"experiment.eval-every={args[2]}",
            "optimizer.momentum=0.9", "optimizer.lr=0.1"]);
        var estimate = ExperimentKinds.Of(spec).EstimateBytes(spec);
        long available = MemoryBudget.AvailableBytes();
        if (estimate > available)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Gib(estimate.Value),8:0.00} G  refused: more than the {Gib(available):0.0} G available (the run's memory guard)"));
            return 0;
        }
        var dir = Path.Combine(Path.GetTempPath(), "actors-memory", Guid.NewGuid().ToString("N"));
        await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), _ => { });
        Directory.Delete(dir, true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Gib(estimate ?? 0),8:0.00} G {Gib(PeakBytes()),8:0.00} G"));
        return 0;
    }

    private static double Gib(long bytes) => bytes / (double)(1L << 30);

    /// <summary>The process's peak resident set (VmHWM from /proc/self/status), in bytes.</summary>
    public static long PeakBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }
}

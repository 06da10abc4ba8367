using System.Diagnostics;
using System.Globalization;
using Actors.Learning.Aggregation;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Running;
using TorchSharp;

namespace Actors.LoadTests.Overhead;

/// <summary>
/// Issue 2's target: time per synchronous round through the actor system (simulation and realtime mode) versus the same
/// gradient computations in a plain loop, measured side by side in one process. Target ratio &lt; 1.15.
/// Usage: actor-overhead [steps=150] [workers=10] [model=mlp] [dataset=fashion-mnist] [repeats=3]
/// </summary>
public static class ActorOverhead
{
    public static async Task<int> Run(string[] args)
    {
        int steps = Arg(args, 0, 150), workers = Arg(args, 1, 10), repeats = Arg(args, 4, 3);
        string model = args.Length > 2 ? args[2] : "mlp", dataset = args.Length > 3 ? args[3] : "fashion-mnist";
        TorchSetup.Initialize();
        string[] sets = [$"experiment.steps={steps}", $"experiment.eval-every={steps}", $"workers.honest={workers}", $"model.type={model}",
            $"data.dataset={dataset}", "optimizer.momentum=0.9", "optimizer.lr=0.1"];
        var simSpec = ExperimentKinds.Load(null, sets);
        var realSpec = ExperimentKinds.Load(null, [.. sets, "experiment.mode=realtime"]);
        using var parts = ParameterServerParts.Build(simSpec, Console.Error.WriteLine);
        Console.WriteLine($"actor overhead: {model} on {parts.DataSource}, {workers} workers, {steps} sync rounds per measurement, best of {repeats}");

        // Warm-up of every path (JIT, libtorch kernels).
        PlainLoop(parts, 5, simSpec.Optimizer.Lr);
        var plain = new List<double>();
        var sim = new List<double>();
        var real = new List<double>();
        var gcs = new long[3, 3]; // path x generation: collections during the measurements
        var cpu = new double[3]; // process CPU seconds (all threads: GC, finalizer, dispatchers) per path, summed over repeats
        for (int r = 0; r < repeats; r++)
        {
            // Interleaved, so machine noise hits all three alike.
            var before = Collections();
            var c0 = Cpu();
            plain.Add(PlainLoop(parts, steps, simSpec.Optimizer.Lr));
            var afterPlain = Collections();
            var c1 = Cpu();
            sim.Add(await ActorRun(simSpec));
            var afterSim = Collections();
            var c2 = Cpu();
            real.Add(await ActorRun(realSpec));
            var afterReal = Collections();
            var c3 = Cpu();
            cpu[0] += c1 - c0;
            cpu[1] += c2 - c1;
            cpu[2] += c3 - c2;
            for (int g = 0; g < 3; g++)
            {
                gcs[0, g] += afterPlain[g] - before[g];
                gcs[1, g] += afterSim[g] - afterPlain[g];
                gcs[2, g] += afterReal[g] - afterSim[g];
            }
        }
        Console.WriteLine($"GC collections per run (gen0/gen1/gen2): plain {gcs[0, 0] / repeats}/{gcs[0, 1] / repeats}/{gcs[0, 2] / repeats}, " +
            $"simulation {gcs[1, 0] / repeats}/{gcs[1, 1] / repeats}/{gcs[1, 2] / repeats}, realtime {gcs[2, 0] / repeats}/{gcs[2, 1] / repeats}/{gcs[2, 2] / repeats}");
        double p = plain.Min(), s = sim.Min(), rt = real.Min();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"plain loop          {p * 1000 / steps,8:0.00} ms/round"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"actors, simulation  {s * 1000 / steps,8:0.00} ms/round   ratio {s / p:0.000}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"actors, realtime    {rt * 1000 / steps,8:0.00} ms/round   ratio {rt / p:0.000}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU time (all threads, incl. each actor run's setup and output): plain {cpu[0] / repeats:0.00} s, simulation {cpu[1] / repeats:0.00} s (x{cpu[1] / cpu[0]:0.00}), realtime {cpu[2] / repeats:0.00} s (x{cpu[2] / cpu[0]:0.00})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"target: ratio < 1.15 -> simulation {(s / p < 1.15 ? "met" : "NOT met")}, realtime {(rt / p < 1.15 ? "met" : "NOT met")}"));
        return 0;
    }

    private static double Cpu() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    private static long[] Collections() => [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];

    private static int Arg(string[] args, int i, int fallback) => args.Length > i && int.TryParse(args[i], out var v) ? v : fallback;

    /// <summary>The same work without actors: every worker's gradient + momentum, the mean, an SGD step.</summary>
    private static double PlainLoop(ParameterServerParts parts, int steps, double lr)
    {
        var sw = Stopwatch.StartNew();
        using var server = new ServerModel(parts.InitialModel, new Mean(), lr);
        var rng = new Random(1);
        for (int step = 0; step < steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var updates = parts.Honest.Select(t => t.ComputeUpdate(server.Parameters)).ToList();
            server.Step(updates, new AggregationContext(updates.Count, 0, step, rng));
        }
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>A fresh set of learning parts per run (as `actors run` does); the clock starts after they are built.</summary>
    private static async Task<double> ActorRun(ExperimentSpec spec)
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-overhead", Guid.NewGuid().ToString("N"));
        using var parts = ParameterServerParts.Build(spec, Console.Error.WriteLine);
        try
        {
            var sw = Stopwatch.StartNew();
            var result = await ExperimentRunner.Run(spec, parts, dir, new RunProgress(spec.Steps), sw);
            // Subtract the two evaluations (step 0 and the last) and the output writing, which the plain loop does not do.
            return result.Summary["wall_time_s"]!.GetValue<double>() - EvaluationSeconds(parts) * 2;
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    private static double? _evaluation;

    private static double EvaluationSeconds(ParameterServerParts parts)
    {
        if (_evaluation is { } e) return e;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 3; i++) parts.Evaluator.Score(parts.InitialModel);
        return (_evaluation = sw.Elapsed.TotalSeconds / 3).Value;
    }
}

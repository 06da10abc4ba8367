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

namespace Actors.LoadTests.Federated;

/// <summary>
/// Issue 18's scale check: a federated population through the actors (simulation) against a plain single-process loop
/// doing the same client updates (the same ClientTrainer slots and FederatedServer, no actors), side by side in one
/// process, with the process's peak memory. Defaults: 10,000 logreg clients and 1,000 MLP clients, 100 per round, K = 10,
/// 50 rounds, FedAvg on Fashion-MNIST with Dirichlet(0.5) shares.
/// Usage: federated-scale [rounds=50] [algorithm=fedavg] [repeats=2]
/// </summary>
public static class FederatedScale
{
    public static async Task<int> Run(string[] args)
    {
        int rounds = args.Length > 0 && int.TryParse(args[0], out var r) ? r : 50;
        string algorithm = args.Length > 1 ? args[1] : "fedavg";
        int repeats = args.Length > 2 && int.TryParse(args[2], out var k) ? k : 2;
        TorchSetup.Initialize();
        Console.WriteLine($"federated scale: {algorithm}, 100 clients per round, K = 10, {rounds} rounds, best of {repeats} (plain loop and actors interleaved)");
        foreach (var (model, clients) in new[] { ("logreg", 10_000), ("mlp", 1_000) })
        {
            string[] sets = ["experiment.kind=federated", $"federated.algorithm={algorithm}", $"federated.clients={clients}", "federated.clients-per-round=100",
                "workers.honest=100", "federated.local-steps=10", $"model.type={model}", "data.partition=dirichlet", "data.dirichlet-alpha=0.5",
                "optimizer.momentum=0", "optimizer.lr=0.1", $"experiment.steps={rounds}", $"experiment.eval-every={rounds}"];
            var spec = ExperimentKinds.Load(null, sets);
            var plain = new List<double>();
            var actors = new List<double>();
            for (int i = 0; i < repeats; i++)
            {
                plain.Add(PlainLoop(spec, rounds));
                actors.Add(await ActorRun(spec));
            }
            double p = plain.Min(), a = actors.Min();
            long peak = Process.GetCurrentProcess().PeakWorkingSet64;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{model,-7} {clients,6} clients: plain loop {rounds / p,6:0.00} rounds/s, actors {rounds / a,6:0.00} rounds/s, ratio {a / p:0.000} (target < 1.2: {(a / p < 1.2 ? "met" : "NOT met")}); process peak {peak / (double)(1L << 30):0.00} GiB (target < 4 GiB)"));
        }
        return 0;
    }

    private static ParameterServerParts Parts(ExperimentSpec spec) => (ParameterServerParts)ExperimentKinds.Of(spec).Prepare(spec, Console.Error.WriteLine);

    /// <summary>The same rounds without actors: every slot's client work on the broadcast state, the mean, the server's step.</summary>
    private static double PlainLoop(ExperimentSpec spec, int rounds)
    {
        using var parts = Parts(spec);
        using var server = parts.CreateServer();
        var rng = new Random(1);
        var sw = Stopwatch.StartNew();
        for (int step = 0; step < rounds; step++)
        {
            using var scope = torch.NewDisposeScope();
            var updates = parts.Honest.Select(t => t.ComputeUpdate(server.Published)).ToList();
            server.Step(updates, new AggregationContext(updates.Count, 0, step, rng));
        }
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>A run through the actors; the two evaluations (step 0 and the last) are taken off, as the plain loop does none.</summary>
    private static async Task<double> ActorRun(ExperimentSpec spec)
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-federated-scale", Guid.NewGuid().ToString("N"));
        using var parts = Parts(spec);
        try
        {
            var evaluation = Stopwatch.StartNew();
            parts.Evaluator.Score(parts.InitialModel);
            double evaluationSeconds = evaluation.Elapsed.TotalSeconds;
            var sw = Stopwatch.StartNew();
            var result = await ExperimentRunner.Run(spec, parts, dir, new RunProgress(spec.Steps), sw);
            return result.Summary["wall_time_s"]!.GetValue<double>() - 2 * evaluationSeconds;
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}

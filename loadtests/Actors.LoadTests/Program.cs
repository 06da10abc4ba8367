// A tiny dispatcher: `dotnet run -c Release --project loadtests/Actors.LoadTests -- <benchmark> [args]`.
// Each benchmark is one line here.
var benchmarks = new SortedDictionary<string, (string Description, Func<string[], Task<int>> Run)>(StringComparer.Ordinal)
{
    ["async-scaling"] = ("sync vs async vs buffered at equal updates on the default experiment with stragglers: accuracy gap and virtual time", Actors.LoadTests.Timing.AsyncScaling.Run),
    ["memory"] = ("peak memory of a run by worker count (logreg, mlp), each in a child process, next to the banner's estimate", Actors.LoadTests.Memory.WorkerMemory.Run),
    [Actors.LoadTests.Memory.WorkerMemory.ChildVerb] = ("(internal) one run of 'memory'", Actors.LoadTests.Memory.WorkerMemory.RunChild),
    ["federated-scale"] = ("10,000 logreg / 1,000 mlp federated clients, 100 per round: rounds/s through actors vs a plain loop, peak memory", Actors.LoadTests.Federated.FederatedScale.Run),
    ["fuzz"] = ("randomized fuzzing of the learning-message envelope and the side channel's framing (100k cases each by default)", Actors.LoadTests.Fuzzing.WireFuzz.Run),
    ["actor-overhead"] = ("time per synchronous round through actors vs the same gradient computations in a plain loop", Actors.LoadTests.Overhead.ActorOverhead.Run),
    ["compression-tradeoff"] = ("report of the compression trade-off sweep (time to target against bandwidth, crossovers, time shares): SWEEP_DIR [--docs DIR]", a => Task.FromResult(Actors.LoadTests.Compression.CompressionTradeoff.Run(a))),
    ["compression"] = ("compress + decompress throughput vs a memory copy; serializer MB/s; 100k-case payload fuzz", a => Task.FromResult(Actors.LoadTests.Compression.CompressionBenchmark.Run(a))),
    ["robustness"] = ("BenchmarkDotNet: each aggregator at n = 25/100, d = 1M, relative to mean (extra args go to BenchmarkDotNet)", a =>
    {
        if (!a.Any(x => x.StartsWith("--filter", StringComparison.Ordinal) || x == "-f")) a = [.. a, "--filter", "*"];
        BenchmarkDotNet.Running.BenchmarkSwitcher.FromTypes([typeof(Actors.LoadTests.Robustness.AggregatorBenchmarks)]).Run(a);
        return Task.FromResult(0);
    }),
    ["transport"] = ("bulk tensor bytes between two cluster nodes: raw TCP vs side channel vs naive Akka (--help)", Actors.LoadTests.Transport.TransportLoadTest.RunAsync),
    [Actors.LoadTests.Transport.TransportLoadTest.NodeVerb] = ("(internal) the receiving node process of 'transport'", Actors.LoadTests.Transport.TransportLoadTest.RunNodeAsync),
    ["transport-micro"] = ("the side channel alone, two systems in one process", Actors.LoadTests.Transport.TransportMicro.RunAsync),
    ["load"] = ("load scenarios on a local cluster (aggregator saturation, transport vs raw TCP, gossip fan-out, submit while running): reports md/csv/html/png (--help)", Actors.LoadTests.Load.LoadCommand.Run),
    [Actors.LoadTests.Load.LoadCluster.NodeVerb] = ("(internal) a node process of 'load'", Actors.LoadTests.Load.LoadCluster.RunNodeAsync),
    ["chaos"] = ("chaos scenarios (cluster-config/chaos/*.hocon) on a local multi-process cluster: kill, pause, restart; checks the documented outcome", Actors.LoadTests.Chaos.ChaosRunner.Run),
    ["dashboard-cost"] = ("the default experiment without and with --dashboard (a client polling it), median wall-time ratio (target < 1.03)", Actors.LoadTests.Dashboard.DashboardCost.Run),
    ["conformal"] = ("standard vs exact-optimized full conformal prediction, time per test point", a => Task.FromResult(Actors.LoadTests.Conformal.ConformalBenchmark.Run(a))),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine("usage: actors-loadtests <benchmark> [args]\n");
    foreach (var (name, (description, _)) in benchmarks) Console.Error.WriteLine($"  {name,-16} {description}");
    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}
return await benchmark.Run(args[1..]);

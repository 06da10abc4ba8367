
// A tiny dispatcher: `dotnet run -c Release --project loadtests/Actors.LoadTests -- <benchmark> [args]`.
var benchmarks = new Dictionary<string, (string Description, Func<string[], Task<int>> Run)>
{
    ["thread-probe"] = ("internal", Actors.LoadTests.Overhead.ThreadProbe.Run),
    ["actor-overhead"] = ("time per synchronous round through actors vs the same gradient computations in a plain loop", Actors.LoadTests.Overhead.ActorOverhead.Run),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine("usage: actors-loadtests <benchmark> [args]\n");
    foreach (var (name, (description, _)) in benchmarks) Console.Error.WriteLine($"  {name,-18} {description}");
    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}
return await benchmark.Run(args[1..]);

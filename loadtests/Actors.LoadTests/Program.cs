using Actors.LoadTests.Conformal;

// Benchmarks, one per line: `dotnet run -c Release --project loadtests/Actors.LoadTests -- NAME [options]`.
var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.Ordinal)
{
    ["conformal"] = ConformalBenchmark.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: actors-loadtests <{string.Join("|", benchmarks.Keys)}> [options]");
    return 2;
}
return run(args[1..]);

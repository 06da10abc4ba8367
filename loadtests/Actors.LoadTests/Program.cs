// Dispatcher: `dotnet run -c Release --project loadtests/Actors.LoadTests -- <benchmark> [options]`.
// Each benchmark adds one line to the table.
var benchmarks = new SortedDictionary<string, Func<string[], int>>(StringComparer.Ordinal)
{
    ["compression"] = Actors.LoadTests.Compression.CompressionBenchmark.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: actors-loadtests <{string.Join("|", benchmarks.Keys)}> [options]");
    return 2;
}
return run(args[1..]);

using BenchmarkDotNet.Running;

// Dispatcher: `dotnet run -c Release --project loadtests/Actors.LoadTests -- SUITE [BenchmarkDotNet args]`.
// Add a suite with one line below; without a --filter, every benchmark of the suite runs.
var suites = new Dictionary<string, Type[]>
{
    ["robustness"] = [typeof(Actors.LoadTests.Robustness.AggregatorBenchmarks)],
};

if (args.Length == 0 || !suites.TryGetValue(args[0], out var types))
{
    Console.Error.WriteLine($"usage: actors-loadtests SUITE [BenchmarkDotNet args] (suites: {string.Join(", ", suites.Keys)})");
    return 2;
}
var rest = args[1..];
if (!rest.Any(a => a.StartsWith("--filter", StringComparison.Ordinal) || a == "-f")) rest = [.. rest, "--filter", "*"];
BenchmarkSwitcher.FromTypes(types).Run(rest);
return 0;

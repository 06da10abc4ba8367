using System.Text.Json.Nodes;
using Actors.LoadTests.Chaos;

namespace Actors.Cli.Tests.Chaos;

/// <summary>
/// The chaos harness: scenario files parse (bad ones name what is wrong), the outcome checks fail when the accounting or the
/// documented crashes do not hold, and the CI smoke scenario runs for real (a worker node frozen 5 s on a 3-process cluster).
/// </summary>
public sealed class ChaosSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-chaos-tests", Guid.NewGuid().ToString("N"));

    public ChaosSpec() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static string Shipped(string name) => Path.Combine(ChaosRunner.RepoRoot(), "cluster-config", "chaos", name);

    [Fact]
    public void Every_shipped_scenario_parses_and_a_bad_one_names_its_fault()
    {
        var files = Directory.GetFiles(Path.Combine(ChaosRunner.RepoRoot(), "cluster-config", "chaos"), "*.hocon");
        Assert.True(files.Length >= 6, string.Join(", ", files));
        foreach (var f in files)
        {
            var s = ChaosScenario.Load(f);
            Assert.Equal(Path.GetFileNameWithoutExtension(f), s.Name);
            Assert.NotEmpty(s.Faults);
            Assert.Contains("--set", s.Experiment);
        }
        var pause = ChaosScenario.Load(Shipped("pause-worker.hocon"));
        Assert.Equal(new Fault(FaultAction.Pause, "node-1", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)), pause.Faults.Single());

        var bad = Path.Combine(_dir, "bad.hocon");
        File.WriteAllText(bad, "chaos { worker-nodes = 2, faults = [ { action = explode, node = node-1, after = 1s } ] }");
        Assert.Contains("explode", Assert.Throws<ArgumentException>(() => ChaosScenario.Load(bad)).Message, StringComparison.Ordinal);
        File.WriteAllText(bad, "chaos { worker-nodes = 2, faults = [ { action = kill, node = node-3, after = 1s } ] }");
        Assert.Contains("node-3", Assert.Throws<ArgumentException>(() => ChaosScenario.Load(bad)).Message, StringComparison.Ordinal);
        File.WriteAllText(bad, "chaos { faults = [ { action = pause, node = seed, after = 1s } ] }");
        Assert.Contains("for", Assert.Throws<ArgumentException>(() => ChaosScenario.Load(bad)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_checks_fail_on_unexplained_updates_undocumented_crashes_and_a_run_that_should_have_failed()
    {
        var scenario = ChaosScenario.Load(Shipped("kill-worker.hocon")); // documents exactly 2 crashed workers
        static JsonObject Summary(long applied, long[] accepted, int crashed)
        {
            var perWorker = new JsonArray();
            foreach (var a in accepted) perWorker.Add(new JsonObject { ["accepted"] = a });
            return new JsonObject { ["updates_applied"] = applied, ["per_worker"] = perWorker, ["workers_crashed"] = crashed, ["steps"] = 10L };
        }
        Assert.All(ChaosRunner.Evaluate(scenario, 0, Summary(30, [10, 10, 5, 5], 2)), c => Assert.True(c.Ok, c.Detail));
        Assert.Contains(ChaosRunner.Evaluate(scenario, 0, Summary(31, [10, 10, 5, 5], 2)), c => !c.Ok && c.What == "no unexplained updates");
        Assert.Contains(ChaosRunner.Evaluate(scenario, 0, Summary(30, [10, 10, 5, 5], 0)), c => !c.Ok && c.What == "crashed workers as documented");
        Assert.Contains(ChaosRunner.Evaluate(scenario, 1, null), c => !c.Ok);
        var fails = ChaosScenario.Load(Shipped("kill-coordinator.hocon"));
        Assert.Contains(ChaosRunner.Evaluate(fails, 0, Summary(30, [30], 0)), c => !c.Ok && c.What == "the run fails, as documented");
    }

    [Fact(Timeout = 90_000)]
    public async Task The_smoke_scenario_a_paused_worker_node_runs_for_real_and_passes()
    {
        var result = await ChaosRunner.RunScenario(ChaosScenario.Load(Shipped("pause-worker.hocon")), Path.Combine(_dir, "pause-worker"));
        Assert.True(result.Passed, string.Join("; ", result.Checks.Select(c => $"{c.What}: {c.Detail}")));
        Assert.Equal(0, result.Summary!["workers_crashed"]!.GetValue<int>());
        var report = File.ReadAllText(Path.Combine(_dir, "pause-worker", "report.md"));
        Assert.Contains("paused node-1 (SIGSTOP)", report, StringComparison.Ordinal);
        Assert.Contains("resumed node-1 (SIGCONT)", report, StringComparison.Ordinal);
    }
}

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
            foreach (var a in accepted) perWorker.Add(new JsonObject { ["accepted"] = a, ["dropped"] = 0L, ["sent"] = a + 1 }); // one in flight each
            return new JsonObject { ["updates_applied"] = applied, ["per_worker"] = perWorker, ["workers_crashed"] = crashed, ["steps"] = 10L };
        }
        Assert.All(ChaosRunner.Evaluate(scenario, 0, Summary(30, [10, 10, 5, 5], 2)), c => Assert.True(c.Ok, c.Detail));
        Assert.Contains(ChaosRunner.Evaluate(scenario, 0, Summary(31, [10, 10, 5, 5], 2)), c => !c.Ok && c.What == "no unexplained updates");
        Assert.Contains(ChaosRunner.Evaluate(scenario, 0, Summary(30, [10, 10, 5, 5], 0)), c => !c.Ok && c.What == "crashed workers as documented");
        Assert.Contains(ChaosRunner.Evaluate(scenario, 1, null), c => !c.Ok);
        var fails = ChaosScenario.Load(Shipped("kill-coordinator.hocon"));
        Assert.Contains(ChaosRunner.Evaluate(fails, 0, Summary(30, [30], 0)), c => !c.Ok && c.What == "the run fails, as documented");
    }

    [Fact(Timeout = 120_000)]
    public async Task The_smoke_scenario_pause_delay_and_drop_on_proxied_links_runs_for_real_and_its_accounting_holds()
    {
        var dir = Path.Combine(_dir, "smoke");
        var result = await ChaosRunner.RunScenario(ChaosScenario.Load(Shipped("smoke.hocon")), dir);
        Assert.True(result.Passed, string.Join("; ", result.Checks.Select(c => $"{c.What}: {c.Detail}")));
        Assert.Equal(0, result.Summary!["workers_crashed"]!.GetValue<int>());
        var report = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("paused node-1 (SIGSTOP)", report, StringComparison.Ordinal);
        Assert.Contains("resumed node-1 (SIGCONT)", report, StringComparison.Ordinal);
        Assert.Contains("delay links of [*] by 30 +- 10 ms", report, StringComparison.Ordinal);
        var chaos = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "chaos.json")))!.AsObject();
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "chaos.json")), File.ReadAllText(Path.Combine(dir, "run", "chaos.json")));
        Assert.True(chaos["run_completed"]!.GetValue<bool>());
        Assert.True(chaos["holds"]!.GetValue<bool>(), chaos.ToJsonString());
        Assert.Equal(0, chaos["unexplained"]!.GetValue<long>());
        long sent = chaos["sent"]!.GetValue<long>(), applied = chaos["applied"]!.GetValue<long>();
        Assert.Equal(sent, applied + chaos["dropped"]!.GetValue<long>() + chaos["in_flight"]!.GetValue<long>());
        Assert.Equal(6000, applied); // 4 workers x 1,500 sync rounds
        Assert.True(chaos["links"]!["frames_delayed"]!.GetValue<long>() > 0);
        var faults = chaos["faults"]!.AsArray();
        Assert.Equal(["pause", "delay", "drop"], faults.Select(f => f!["kind"]!.GetValue<string>()));
        Assert.All(faults, f => Assert.NotNull(f!["recovered_after_s"]));
        Assert.Null(faults[0]!["detected_after_s"]); // a 3 s pause is within the failure detector's allowance
        var csv = File.ReadAllLines(Path.Combine(dir, "report.csv"));
        Assert.Equal(4, csv.Length); // header + a row per fault
        Assert.StartsWith("smoke,pause,node-1,", csv[1], StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(dir, "progress.png")).Length > 0);
        var html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("data:image/png;base64,", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=\"http", html, StringComparison.Ordinal);
        Assert.Contains("<table>", html, StringComparison.Ordinal);
    }
}

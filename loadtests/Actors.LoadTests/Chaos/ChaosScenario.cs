using System.Globalization;
using Akka.Configuration;

namespace Actors.LoadTests.Chaos;

/// <summary>What a fault does to a node process.</summary>
public enum FaultAction
{
    /// <summary>SIGKILL: the process is gone at once.</summary>
    Kill,

    /// <summary>SIGSTOP, then SIGCONT after <see cref="Fault.For"/>: the node is frozen, its sockets stay open.</summary>
    Pause,

    /// <summary>SIGKILL, then the same node started again (a new cluster member at a new address).</summary>
    Restart,

    /// <summary>SIGKILL half of the worker nodes (rounded down, at least one).</summary>
    KillHalf,
}

/// <summary>One fault of a schedule: <see cref="Action"/> on <see cref="Node"/> (seed, node-1, ...) <see cref="After"/> the run was submitted.</summary>
public sealed record Fault(FaultAction Action, string Node, TimeSpan After, TimeSpan For);

/// <summary>The documented outcome a scenario checks.</summary>
/// <param name="Completes">True: the run must end with exit 0; false: it must fail (exit 1).</param>
/// <param name="MinCrashed">Fewest crashed workers summary.json may report.</param>
/// <param name="MaxCrashed">Most crashed workers summary.json may report.</param>
public sealed record Expectation(bool Completes, int MinCrashed, int MaxCrashed);

/// <summary>
/// A chaos scenario (cluster-config/chaos/*.hocon): a local multi-process cluster (a seed with the coordinator and aggregator
/// roles plus worker nodes), one experiment submitted to it, a fault schedule applied while it runs, and the outcome it must
/// have. Loopback only; every wait is bounded by <see cref="Timeout"/>.
/// </summary>
public sealed record ChaosScenario(string Name, string Description, int WorkerNodes, string[] Experiment, IReadOnlyList<Fault> Faults, Expectation Expect,
    TimeSpan Timeout)
{
    public static ChaosScenario Load(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"chaos scenario {path}: no such file");
        Config c;
        try
        {
            c = ConfigurationFactory.ParseString(File.ReadAllText(path)).GetConfig("chaos")
                ?? throw new ArgumentException($"chaos scenario {path}: no chaos {{ ... }} section");
        }
        catch (Exception e) when (e is not ArgumentException and not OutOfMemoryException)
        {
            throw new ArgumentException($"chaos scenario {path}: {e.Message}", e);
        }
        string name = c.GetString("name", Path.GetFileNameWithoutExtension(path));
        int workers = c.GetInt("worker-nodes", 2);
        if (workers < 1) throw new ArgumentException($"chaos scenario {path}: worker-nodes must be at least 1");
        var nodes = new HashSet<string>(StringComparer.Ordinal) { "seed" };
        for (int i = 1; i <= workers; i++) nodes.Add($"node-{i}");
        var faults = new List<Fault>();
        foreach (var f in c.GetValue("faults")?.GetArray() ?? [])
        {
            var fc = f.ToConfig();
            var actionName = fc.GetString("action", "");
            var action = actionName switch
            {
                "kill" => FaultAction.Kill,
                "pause" => FaultAction.Pause,
                "restart" => FaultAction.Restart,
                "kill-half" => FaultAction.KillHalf,
                _ => throw new ArgumentException($"chaos scenario {path}: fault action '{actionName}' (valid: kill, pause, restart, kill-half)"),
            };
            var node = fc.GetString("node", action == FaultAction.KillHalf ? "workers" : "");
            if (action != FaultAction.KillHalf && !nodes.Contains(node))
                throw new ArgumentException($"chaos scenario {path}: fault node '{node}' (valid: {string.Join(", ", nodes)})");
            var after = fc.GetTimeSpan("after", null, allowInfinite: false);
            var duration = fc.GetTimeSpan("for", TimeSpan.Zero, allowInfinite: false);
            if (action == FaultAction.Pause && duration <= TimeSpan.Zero) throw new ArgumentException($"chaos scenario {path}: a pause needs 'for' (e.g. for = 5s)");
            faults.Add(new Fault(action, node, after, duration));
        }
        var expect = c.GetConfig("expect");
        var outcome = expect?.GetString("outcome", "completes") ?? "completes";
        if (outcome is not ("completes" or "fails")) throw new ArgumentException($"chaos scenario {path}: expect.outcome '{outcome}' (valid: completes, fails)");
        int min = expect?.GetInt("workers-crashed-min", 0) ?? 0, max = expect?.GetInt("workers-crashed-max", int.MaxValue) ?? int.MaxValue;
        // experiment { file = "cluster-config/experiments/x.hocon" (optional), set = ["key=value", ...] }: the run command's arguments.
        var experiment = c.GetConfig("experiment");
        var file = experiment?.GetString("file", "") ?? "";
        string[] runArgs = [.. file.Length > 0 ? [file] : Array.Empty<string>(), .. (experiment?.GetStringList("set") ?? []).SelectMany(kv => new[] { "--set", kv })];
        return new ChaosScenario(name, c.GetString("description", ""), workers, runArgs,
            [.. faults.OrderBy(f => f.After)], new Expectation(outcome == "completes", min, max), c.GetTimeSpan("timeout", TimeSpan.FromMinutes(3), allowInfinite: false));
    }

    public static string Describe(Fault f) => f.Action switch
    {
        FaultAction.Pause => string.Create(CultureInfo.InvariantCulture, $"pause {f.Node} for {f.For.TotalSeconds:0.#} s"),
        FaultAction.KillHalf => "kill half of the worker nodes",
        _ => $"{f.Action.ToString().ToLowerInvariant()} {f.Node}",
    };
}

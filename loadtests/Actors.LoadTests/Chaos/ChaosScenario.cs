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

    /// <summary>Every link between <see cref="Fault.Nodes"/> and the other nodes is held (no byte passes either way) for <see cref="Fault.For"/>, then heals.</summary>
    Partition,

    /// <summary>Every message on a link touching <see cref="Fault.Nodes"/> ("*": all) leaves <see cref="Fault.Delay"/> +- <see cref="Fault.Jitter"/> late, order kept.</summary>
    Delay,

    /// <summary>A fraction (<see cref="Fault.Fraction"/>) of the messages on links touching <see cref="Fault.Nodes"/> is lost.</summary>
    Drop,
}

/// <summary>One fault of a schedule: <see cref="Action"/> on <see cref="Node"/> (seed, node-1, ...) <see cref="After"/> the run was submitted.</summary>
/// <remarks>Link faults (partition, delay, drop) name <see cref="Nodes"/>; <see cref="For"/> zero keeps a delay or drop until the run ends.</remarks>
public sealed record Fault(FaultAction Action, string Node, TimeSpan After, TimeSpan For)
{
    public IReadOnlyList<string> Nodes { get; init; } = [Node];

    public TimeSpan Delay { get; init; }

    public TimeSpan Jitter { get; init; }

    public double Fraction { get; init; }

    public bool IsLinkFault => Action is FaultAction.Partition or FaultAction.Delay or FaultAction.Drop;

    public bool Equals(Fault? other) => other is not null && Action == other.Action && Node == other.Node && After == other.After && For == other.For
        && Nodes.SequenceEqual(other.Nodes) && Delay == other.Delay && Jitter == other.Jitter && Fraction.Equals(other.Fraction);

    public override int GetHashCode() => HashCode.Combine(Action, Node, After, For, Delay, Jitter, Fraction);
}

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
    /// <summary>Seed of the link faults' random draws (jitter, which messages a drop loses).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Also run the experiment in one process without faults, for the final-accuracy comparison (baseline = off skips it).</summary>
    public bool Baseline { get; init; } = true;

    /// <summary>Node settings (<c>nodes.set = ["key=value"]</c>), passed to every node as <c>--set</c> (e.g. actors.cluster.resend-after=2s).</summary>
    public IReadOnlyList<string> NodeSettings { get; init; } = [];

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
                "partition" => FaultAction.Partition,
                "delay" => FaultAction.Delay,
                "drop" => FaultAction.Drop,
                _ => throw new ArgumentException($"chaos scenario {path}: fault action '{actionName}' (valid: kill, pause, restart, kill-half, partition, delay, drop)"),
            };
            var after = fc.GetTimeSpan("after", null, allowInfinite: false);
            var duration = fc.GetTimeSpan("for", TimeSpan.Zero, allowInfinite: false);
            if (action is FaultAction.Partition or FaultAction.Delay or FaultAction.Drop)
            {
                // nodes = [node-1] (or node = node-1); "*" = every node (delay and drop only)
                var listed = fc.HasPath("nodes") ? fc.GetStringList("nodes").ToList() : [fc.GetString("node", action == FaultAction.Partition ? "" : "*")];
                foreach (var n in listed)
                    if (!(nodes.Contains(n) || (n == "*" && action != FaultAction.Partition)))
                        throw new ArgumentException($"chaos scenario {path}: {actionName} node '{n}' (valid: {string.Join(", ", nodes)}{(action == FaultAction.Partition ? "" : ", *")})");
                if (action == FaultAction.Partition && (duration <= TimeSpan.Zero || listed.Count == 0 || listed.Count >= nodes.Count))
                    throw new ArgumentException($"chaos scenario {path}: a partition needs 'for' and a proper subset of the nodes in 'nodes'");
                var fault = new Fault(action, listed[0], after, duration) { Nodes = listed };
                if (action == FaultAction.Delay)
                {
                    fault = fault with { Delay = fc.GetTimeSpan("delay", null, allowInfinite: false), Jitter = fc.GetTimeSpan("jitter", TimeSpan.Zero, allowInfinite: false) };
                    if (fault.Delay <= TimeSpan.Zero || fault.Jitter < TimeSpan.Zero || fault.Jitter > fault.Delay)
                        throw new ArgumentException($"chaos scenario {path}: a delay needs delay > 0 and 0 <= jitter <= delay (e.g. delay = 50ms, jitter = 20ms)");
                }
                if (action == FaultAction.Drop)
                {
                    fault = fault with { Fraction = fc.GetDouble("fraction", -1) };
                    if (fault.Fraction is <= 0 or >= 1) throw new ArgumentException($"chaos scenario {path}: a drop needs 0 < fraction < 1 (e.g. fraction = 0.01)");
                }
                faults.Add(fault);
                continue;
            }
            var node = fc.GetString("node", action == FaultAction.KillHalf ? "workers" : "");
            if (action != FaultAction.KillHalf && !nodes.Contains(node))
                throw new ArgumentException($"chaos scenario {path}: fault node '{node}' (valid: {string.Join(", ", nodes)})");
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
            [.. faults.OrderBy(f => f.After)], new Expectation(outcome == "completes", min, max), c.GetTimeSpan("timeout", TimeSpan.FromMinutes(3), allowInfinite: false))
        {
            Seed = c.GetInt("seed", 1),
            NodeSettings = c.HasPath("nodes.set") ? [.. c.GetStringList("nodes.set")] : [],
            Baseline = c.GetBoolean("baseline", true),
        };
    }

    /// <summary>True when a fault needs the links proxied (the nodes then advertise their proxies' ports).</summary>
    public bool ProxiesLinks => Faults.Any(f => f.IsLinkFault);

    public static string Describe(Fault f) => f.Action switch
    {
        FaultAction.Pause => string.Create(CultureInfo.InvariantCulture, $"pause {f.Node} for {f.For.TotalSeconds:0.#} s"),
        FaultAction.Partition => string.Create(CultureInfo.InvariantCulture, $"partition [{string.Join(", ", f.Nodes)}] from the rest for {f.For.TotalSeconds:0.#} s"),
        FaultAction.Delay => string.Create(CultureInfo.InvariantCulture,
            $"delay links of [{string.Join(", ", f.Nodes)}] by {f.Delay.TotalMilliseconds:0} +- {f.Jitter.TotalMilliseconds:0} ms{(f.For > TimeSpan.Zero ? $" for {f.For.TotalSeconds:0.#} s" : " until the end")}"),
        FaultAction.Drop => string.Create(CultureInfo.InvariantCulture,
            $"drop {f.Fraction:P1} of the messages on links of [{string.Join(", ", f.Nodes)}]{(f.For > TimeSpan.Zero ? $" for {f.For.TotalSeconds:0.#} s" : " until the end")}"),
        FaultAction.KillHalf => "kill half of the worker nodes",
        _ => $"{f.Action.ToString().ToLowerInvariant()} {f.Node}",
    };
}

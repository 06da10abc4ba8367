using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Runtime.Cluster;
using Actors.Runtime.Output;

namespace Actors.LoadTests.Chaos;

/// <summary>
/// `chaos FILE.hocon --out DIR`: starts the scenario's cluster as child processes of the built <c>actors</c> CLI on loopback,
/// submits its experiment, applies the fault schedule (SIGKILL, SIGSTOP/SIGCONT, restart) at its times, waits (bounded) for
/// the run to end and checks the outcome the scenario documents: exit status, crashed workers, and the accounting
/// (every applied update belongs to a worker: the per-worker accepted counts sum to <c>updates_applied</c>). Writes
/// <c>report.md</c> and the run directory under DIR; exit 0 when every check holds, 1 otherwise, 2 for bad input.
/// </summary>
public static class ChaosRunner
{
    private const int SigCont = 18, SigStop = 19;

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);

    public static async Task<int> Run(string[] args)
    {
        if (args.Length == 0 || args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine("""
                actors-loadtests chaos FILE.hocon [FILE.hocon...] --out DIR
                  Runs each chaos scenario (cluster-config/chaos/*.hocon) on a local multi-process cluster (loopback) and checks
                  its documented outcome; DIR/<scenario>/report.md and the run directory. Exit 1 when any check fails.
                """);
            return args.Length == 0 ? 2 : 0;
        }
        int outAt = Array.IndexOf(args, "--out");
        if (outAt < 0 || outAt + 1 >= args.Length)
        {
            Console.Error.WriteLine("chaos: --out DIR is required");
            return 2;
        }
        var outDir = args[outAt + 1];
        var files = args.Where((_, i) => i != outAt && i != outAt + 1).ToList();
        var scenarios = new List<ChaosScenario>();
        foreach (var f in files)
        {
            try
            {
                scenarios.Add(ChaosScenario.Load(f));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"chaos: {e.Message}");
                return 2;
            }
        }
        bool allPassed = true;
        foreach (var s in scenarios)
        {
            var result = await RunScenario(s, Path.Combine(outDir, s.Name)).ConfigureAwait(false);
            Console.WriteLine($"{s.Name}: {(result.Passed ? "passed" : "FAILED")} ({result.Seconds:0.0} s) -> {Path.Combine(outDir, s.Name, "report.md")}");
            foreach (var c in result.Checks.Where(c => !c.Ok)) Console.WriteLine($"  failed: {c.What}: {c.Detail}");
            allPassed &= result.Passed;
        }
        return allPassed ? 0 : 1;
    }

    public sealed record Check(string What, bool Ok, string Detail);

    public sealed record Result(bool Passed, double Seconds, IReadOnlyList<Check> Checks, JsonObject? Summary);

    /// <summary>Runs one scenario into <paramref name="dir"/> (made fresh) and writes its report.</summary>
    public static async Task<Result> RunScenario(ChaosScenario scenario, string dir)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        var log = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        var cluster = new LocalCluster(log, clock);
        var timeline = new List<string>();
        var checks = new List<Check>();
        JsonObject? summary = null;
        int? exit = null;
        try
        {
            int port = FreePort();
            string seed = $"127.0.0.1:{port}";
            await cluster.Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--roles", "aggregator"]).ConfigureAwait(false);
            for (int i = 1; i <= scenario.WorkerNodes; i++)
                await cluster.Start($"node-{i}", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker"]).ConfigureAwait(false);
            timeline.Add($"{clock.Elapsed.TotalSeconds:0.0} s: cluster up (seed + {scenario.WorkerNodes} worker nodes)");

            var runDir = Path.Combine(dir, "run");
            var client = cluster.Launch("run", ["run", "--quiet", "--cluster", seed, "--out", runDir, .. scenario.Experiment]);
            var submitted = clock.Elapsed;
            timeline.Add($"{submitted.TotalSeconds:0.0} s: run submitted");
            var deadline = submitted + scenario.Timeout;
            // Fault times count from the first evaluation row (training under way), not from the submission (setup takes seconds).
            while (LastStep(runDir) == "-" && !client.HasExited && clock.Elapsed < deadline) await Task.Delay(50).ConfigureAwait(false);
            var started = clock.Elapsed;
            timeline.Add($"{started.TotalSeconds:0.0} s: training under way (first evaluation row)");
            foreach (var fault in scenario.Faults)
            {
                while (clock.Elapsed < started + fault.After && !client.HasExited) await Task.Delay(50).ConfigureAwait(false);
                if (client.HasExited) break;
                await Apply(cluster, scenario, fault, line => timeline.Add($"{clock.Elapsed.TotalSeconds:0.0} s (last evaluated step {LastStep(runDir)}): {line}")).ConfigureAwait(false);
            }
            using (var cts = new CancellationTokenSource(deadline - clock.Elapsed > TimeSpan.Zero ? deadline - clock.Elapsed : TimeSpan.FromSeconds(1)))
            {
                try
                {
                    await client.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    timeline.Add($"{clock.Elapsed.TotalSeconds:0.0} s: the run did not end within {scenario.Timeout.TotalSeconds:0} s; stopped");
                }
            }
            if (client.HasExited)
            {
                exit = client.ExitCode;
                timeline.Add($"{clock.Elapsed.TotalSeconds:0.0} s: run ended, exit {exit}");
            }
            var summaryPath = Path.Combine(runDir, "summary.json");
            if (File.Exists(summaryPath)) summary = JsonNode.Parse(File.ReadAllText(summaryPath))?.AsObject();
            checks.AddRange(Evaluate(scenario, exit, summary));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            checks.Add(new Check("the scenario ran", false, e.Message));
        }
        finally
        {
            cluster.Dispose();
        }
        clock.Stop();
        bool passed = checks.Count > 0 && checks.All(c => c.Ok);
        WriteReport(dir, scenario, timeline, checks, summary, passed, clock.Elapsed.TotalSeconds, log);
        return new Result(passed, clock.Elapsed.TotalSeconds, checks, summary);
    }

    private static async Task Apply(LocalCluster cluster, ChaosScenario scenario, Fault fault, Action<string> note)
    {
        switch (fault.Action)
        {
            case FaultAction.Kill:
                cluster.Kill(fault.Node);
                note($"killed {fault.Node} (SIGKILL)");
                break;
            case FaultAction.KillHalf:
            {
                var victims = Enumerable.Range(1, Math.Max(1, scenario.WorkerNodes / 2)).Select(i => $"node-{i}").ToList();
                foreach (var v in victims) cluster.Kill(v);
                note($"killed {string.Join(", ", victims)} (SIGKILL, half of the worker nodes)");
                break;
            }
            case FaultAction.Pause:
            {
                var pid = cluster.Pid(fault.Node);
                if (Signal(pid, SigStop) != 0) throw new InvalidOperationException($"SIGSTOP {fault.Node} failed (errno {Marshal.GetLastWin32Error()})");
                note($"paused {fault.Node} (SIGSTOP)");
                await Task.Delay(fault.For).ConfigureAwait(false);
                if (Signal(pid, SigCont) != 0) throw new InvalidOperationException($"SIGCONT {fault.Node} failed (errno {Marshal.GetLastWin32Error()})");
                note(string.Create(CultureInfo.InvariantCulture, $"resumed {fault.Node} (SIGCONT) after {fault.For.TotalSeconds:0.#} s"));
                break;
            }
            case FaultAction.Restart:
                cluster.Kill(fault.Node);
                note($"killed {fault.Node} for a restart (SIGKILL)");
                await cluster.Restart(fault.Node).ConfigureAwait(false);
                note($"{fault.Node} up again (a new member)");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault));
        }
    }

    /// <summary>The checks of a scenario's documented outcome.</summary>
    public static IEnumerable<Check> Evaluate(ChaosScenario scenario, int? exit, JsonObject? summary)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (!scenario.Expect.Completes)
        {
            yield return new Check("the run fails, as documented", exit is not null and not 0, exit is null ? "it did not end in time" : $"exit {exit}");
            yield break;
        }
        yield return new Check("the run completes", exit == 0, exit is null ? "it did not end in time" : $"exit {exit}");
        if (summary is null)
        {
            yield return new Check("summary.json written", false, "missing");
            yield break;
        }
        int crashed = summary["workers_crashed"]?.GetValue<int>() ?? 0;
        yield return new Check("crashed workers as documented", crashed >= scenario.Expect.MinCrashed && crashed <= scenario.Expect.MaxCrashed,
            $"workers_crashed = {crashed}, documented {scenario.Expect.MinCrashed}..{(scenario.Expect.MaxCrashed == int.MaxValue ? "any" : scenario.Expect.MaxCrashed)}");
        long applied = summary["updates_applied"]?.GetValue<long>() ?? -1;
        long accepted = summary["per_worker"]?.AsArray().Sum(w => w!["accepted"]!.GetValue<long>()) ?? -2;
        yield return new Check("no unexplained updates", applied > 0 && applied == accepted, $"updates_applied = {applied}, per-worker accepted sum = {accepted}");
        long steps = summary["steps"]?.GetValue<long>() ?? 0;
        yield return new Check("every step ran", steps > 0, $"steps = {steps}");
    }

    private static string LastStep(string runDir) =>
        LiveMetrics.LastStep(Path.Combine(runDir, "metrics.csv"))?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static void WriteReport(string dir, ChaosScenario s, List<string> timeline, List<Check> checks, JsonObject? summary, bool passed, double seconds,
        ConcurrentQueue<string> log)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Chaos scenario `{s.Name}`: {(passed ? "passed" : "FAILED")}");
        md.AppendLine();
        if (s.Description.Length > 0) md.AppendLine(s.Description).AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Cluster: seed (coordinator + aggregator) + {s.WorkerNodes} worker node(s), loopback. Experiment: `actors run {string.Join(' ', s.Experiment)}`. ");
        md.AppendLine(CultureInfo.InvariantCulture, $"Faults (times from the first evaluation row): {(s.Faults.Count == 0 ? "none" : string.Join("; ", s.Faults.Select(f => $"{ChaosScenario.Describe(f)} at +{f.After.TotalSeconds:0.#} s")))}. ");
        md.AppendLine(CultureInfo.InvariantCulture, $"Documented outcome: {(s.Expect.Completes ? "completes" : "fails")}. Took {seconds:0.0} s.");
        md.AppendLine().AppendLine("## Timeline").AppendLine();
        foreach (var t in timeline) md.AppendLine(CultureInfo.InvariantCulture, $"- {t}");
        md.AppendLine().AppendLine("## Checks").AppendLine().AppendLine("| check | result | detail |").AppendLine("|---|---|---|");
        foreach (var c in checks) md.AppendLine(CultureInfo.InvariantCulture, $"| {c.What} | {(c.Ok ? "ok" : "FAILED")} | {c.Detail} |");
        if (summary is not null)
        {
            md.AppendLine().AppendLine("## Figures").AppendLine().AppendLine("| key | value |").AppendLine("|---|---|");
            foreach (var key in new[] { "final_test_accuracy", "steps", "updates_applied", "updates_dropped", "workers_crashed", "workers_crashed_events", "aggregator_restarts", "wall_time_s" })
                if (summary[key] is { } v) md.AppendLine(CultureInfo.InvariantCulture, $"| {key} | `{v.ToJsonString()}` |");
        }
        md.AppendLine().AppendLine("## Last lines of the processes").AppendLine().AppendLine("```");
        foreach (var line in log.TakeLast(40)) md.AppendLine(line.Length > 300 ? line[..300] : line);
        md.AppendLine("```");
        File.WriteAllText(Path.Combine(dir, "report.md"), md.ToString());
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>The scenario's node processes: the built CLI started with <c>dotnet actors.dll</c>, stopped with the runner.</summary>
    private sealed class LocalCluster(ConcurrentQueue<string> log, Stopwatch clock) : IDisposable
    {
        private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(60);
        private readonly Dictionary<string, (Process Process, string[] Args)> _nodes = [];
        private readonly ConcurrentDictionary<string, bool> _up = new();
        private readonly List<Process> _all = [];

        public async Task Start(string name, string[] args)
        {
            _up.TryRemove(name, out _);
            _nodes[name] = (Launch(name, args), args);
            var waited = Stopwatch.StartNew();
            while (!_up.ContainsKey(name))
            {
                if (_nodes[name].Process.HasExited) throw new InvalidOperationException($"{name} exited with {_nodes[name].Process.ExitCode} before it was up");
                if (waited.Elapsed > UpTimeout) throw new TimeoutException($"{name} not up within {UpTimeout.TotalSeconds:0} s");
                await Task.Delay(100).ConfigureAwait(false);
            }
        }

        public Task Restart(string name) => Start(name, _nodes[name].Args);

        public int Pid(string name) => _nodes.TryGetValue(name, out var n) ? n.Process.Id : throw new InvalidOperationException($"no node {name}");

        public void Kill(string name)
        {
            if (!_nodes.TryGetValue(name, out var n)) throw new InvalidOperationException($"no node {name}");
            Signal(n.Process.Id, SigCont); // a paused process dies too, but let it see the signal
            n.Process.Kill(entireProcessTree: true);
            n.Process.WaitForExit(5000);
        }

        public Process Launch(string name, string[] args)
        {
            var info = new ProcessStartInfo("dotnet") { ArgumentList = { typeof(Actors.Cli.CliApp).Assembly.Location }, UseShellExecute = false };
            foreach (var a in args) info.ArgumentList.Add(a);
            info.WorkingDirectory = RepoRoot();
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.Environment["ACTORS_LOGLEVEL"] = "WARNING";
            info.Environment[ParentWatch.Variable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture); // children stop when the runner is gone
            var p = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
            _all.Add(p);
            p.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                log.Enqueue($"[{clock.Elapsed.TotalSeconds,6:0.0} {name}] {e.Data}");
                if (e.Data.Contains(" up: ", StringComparison.Ordinal)) _up[name] = true;
            };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue($"[{clock.Elapsed.TotalSeconds,6:0.0} {name}!] {e.Data}"); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return p;
        }

        public void Dispose()
        {
            foreach (var p in _all)
            {
                try
                {
                    if (p.HasExited) continue;
                    Signal(p.Id, SigCont);
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
                catch (InvalidOperationException)
                {
                    // already reaped
                }
            }
            foreach (var p in _all) p.Dispose();
        }
    }

    /// <summary>Where relative experiment paths resolve: the repository (Actors.sln) above the current directory or the binaries.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Actors.sln"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }
}

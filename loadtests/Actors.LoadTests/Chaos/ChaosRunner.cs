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
        var links = scenario.ProxiesLinks ? new LinkFaults(scenario.Seed) : null;
        var cluster = new LocalCluster(log, clock, links);
        var timeline = new List<string>();
        var checks = new List<Check>();
        var records = new List<FaultRecord>();
        var progress = new ConcurrentQueue<(double T, long Step)>();
        JsonObject? summary = null;
        double? baseline = null;
        int? exit = null;
        var runDir = Path.Combine(dir, "run");
        using var sampling = new CancellationTokenSource();
        try
        {
            int port = FreePort();
            string seed = $"127.0.0.1:{cluster.AdvertisedPort("seed", port)}";
            string[] settings = [.. scenario.NodeSettings.SelectMany(kv => new[] { "--set", kv })];
            await cluster.Start("seed", ["seed", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--roles", "aggregator", .. settings]).ConfigureAwait(false);
            for (int i = 1; i <= scenario.WorkerNodes; i++)
                await cluster.Start($"node-{i}", ["node", "--seed", seed, "--host", "127.0.0.1", "--roles", "worker", .. settings]).ConfigureAwait(false);
            timeline.Add($"{clock.Elapsed.TotalSeconds:0.0} s: cluster up (seed + {scenario.WorkerNodes} worker nodes{(links is null ? "" : "; every node's Akka and side-channel ports behind a fault proxy")})");

            var client = cluster.Launch("run", ["run", "--quiet", "--cluster", seed, "--out", runDir, .. scenario.Experiment]);
            var submitted = clock.Elapsed;
            timeline.Add($"{submitted.TotalSeconds:0.0} s: run submitted");
            var deadline = submitted + scenario.Timeout;
            // Fault times count from the first evaluation row (training under way), not from the submission (setup takes seconds).
            while (LastStep(runDir) == "-" && !client.HasExited && clock.Elapsed < deadline) await Task.Delay(50).ConfigureAwait(false);
            var started = clock.Elapsed;
            timeline.Add($"{started.TotalSeconds:0.0} s: training under way (first evaluation row)");
            _ = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    if (LiveMetrics.LastStep(Path.Combine(runDir, "metrics.csv")) is { } step) progress.Enqueue((clock.Elapsed.TotalSeconds, step));
                    await Task.Delay(100).ConfigureAwait(false);
                }
            });
            foreach (var fault in scenario.Faults)
            {
                while (clock.Elapsed < started + fault.After && !client.HasExited) await Task.Delay(50).ConfigureAwait(false);
                if (client.HasExited) break;
                var at = clock.Elapsed;
                await Apply(cluster, scenario, fault, line => timeline.Add($"{clock.Elapsed.TotalSeconds:0.0} s (last evaluated step {LastStep(runDir)}): {line}")).ConfigureAwait(false);
                records.Add(new FaultRecord(fault, at - started, at, clock.Elapsed));
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
            await sampling.CancelAsync().ConfigureAwait(false);
            if (links is not null)
                timeline.Add($"link faults: {links.DroppedFrames} frames dropped, {links.DelayedFrames} delayed, {links.HeldFrames} held by a partition");
            // Membership decisions the processes logged (the failure detector, the split-brain resolver): what the fault became.
            foreach (var (t, name, line) in cluster.Lines.Where(l => Membership(l.Line)).Take(16))
                timeline.Add(string.Create(CultureInfo.InvariantCulture, $"{t:0.0} s [{name}]: {Trim(line)}"));
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
            await sampling.CancelAsync().ConfigureAwait(false);
            cluster.Dispose();
        }
        if (scenario.Baseline && summary is not null)
            baseline = await Baseline(scenario, Path.Combine(dir, "baseline"), log, clock).ConfigureAwait(false);
        // Every line every process printed, for what the report's tail leaves out.
        File.WriteAllLines(Path.Combine(dir, "processes.log"), cluster.Lines.Select(l => string.Create(CultureInfo.InvariantCulture, $"[{l.T,7:0.00} {l.Name}] {l.Line}")));
        var figures = records.Select((r, i) => Measure(r, [.. progress], cluster.Lines, i + 1 < records.Count ? records[i + 1].Began.TotalSeconds : null)).ToList();
        WriteChaosJson(Path.Combine(dir, "chaos.json"), scenario, exit, summary, figures, baseline, links);
        if (Directory.Exists(runDir)) File.Copy(Path.Combine(dir, "chaos.json"), Path.Combine(runDir, "chaos.json"), overwrite: true);
        clock.Stop();
        bool passed = checks.Count > 0 && checks.All(c => c.Ok);
        WriteReport(dir, scenario, timeline, checks, summary, passed, clock.Elapsed.TotalSeconds, log, figures, baseline, [.. progress]);
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
            case FaultAction.Partition:
            {
                var links = cluster.Links ?? throw new InvalidOperationException("a partition needs the proxied links");
                var rest = cluster.Names.Append("run").Append("?").Except(fault.Nodes).ToList();
                links.Partition(fault.Nodes, rest);
                note($"partitioned [{string.Join(", ", fault.Nodes)}] from [{string.Join(", ", rest.Where(r => r != "?"))}] (links held both ways)");
                await Task.Delay(fault.For).ConfigureAwait(false);
                links.Heal();
                note(string.Create(CultureInfo.InvariantCulture, $"healed the partition after {fault.For.TotalSeconds:0.#} s"));
                break;
            }
            case FaultAction.Delay:
            {
                var links = cluster.Links ?? throw new InvalidOperationException("a delay needs the proxied links");
                links.SetDelay(fault.Nodes, fault.Delay, fault.Jitter);
                note(ChaosScenario.Describe(fault));
                if (fault.For > TimeSpan.Zero)
                {
                    await Task.Delay(fault.For).ConfigureAwait(false);
                    links.ClearDelay();
                    note("delay lifted");
                }
                break;
            }
            case FaultAction.Drop:
            {
                var links = cluster.Links ?? throw new InvalidOperationException("a drop needs the proxied links");
                links.SetDrop(fault.Nodes, fault.Fraction);
                note(ChaosScenario.Describe(fault));
                if (fault.For > TimeSpan.Zero)
                {
                    await Task.Delay(fault.For).ConfigureAwait(false);
                    links.ClearDrop();
                    note(string.Create(CultureInfo.InvariantCulture, $"drop lifted ({links.DroppedFrames} frames dropped so far)"));
                }
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

    /// <summary>A fault as applied: when it began (from training start, and on the runner's clock) and when its action ended.</summary>
    public sealed record FaultRecord(Fault Fault, TimeSpan AtFromStart, TimeSpan Began, TimeSpan Ended);

    /// <summary>What a fault did to the run (seconds; null when it did not happen).</summary>
    /// <param name="DetectedAfter">From the fault to the first line of a process saying a node is unreachable or lost.</param>
    /// <param name="Stall">The longest time without a new evaluation row from the fault to 30 s after its end, less the usual time between rows before it.</param>
    /// <param name="RecoveredAfter">From the fault to the first new evaluation row after its end.</param>
    public sealed record FaultFigures(FaultRecord Record, double? DetectedAfter, double Stall, double? RecoveredAfter);

    /// <summary>Detection, stall and recovery of one fault from the progress samples (seconds, step) and the processes' lines.</summary>
    /// <param name="next">When the next fault began (seconds on the runner's clock): this one's window ends there at the latest.</param>
    public static FaultFigures Measure(FaultRecord r, IReadOnlyList<(double T, long Step)> samples, IEnumerable<(double T, string Name, string Line)> lines,
        double? next = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(samples);
        double begin = r.Began.TotalSeconds, end = r.Ended.TotalSeconds, horizon = Math.Min(end + 30, next ?? double.MaxValue);
        // Akka's failure detector ("Marking node(s) as UNREACHABLE") or the run's own notice of a lost node.
        double? detected = lines.Where(l => l.T >= begin && l.T <= horizon && (l.Line.Contains("as UNREACHABLE", StringComparison.Ordinal)
                || l.Line.Contains("lost at step", StringComparison.Ordinal)))
            .Select(l => (double?)(l.T - begin)).FirstOrDefault();
        var advances = new List<double>();
        for (int i = 1; i < samples.Count; i++)
            if (samples[i].Step > samples[i - 1].Step) advances.Add(samples[i].T);
        var before = advances.Where(t => t < begin).ToList();
        var gaps = before.Zip(before.Skip(1), (a, b) => b - a).Order().ToList();
        double usual = gaps.Count == 0 ? 0 : gaps[gaps.Count / 2];
        var during = advances.Where(t => t > begin && t <= horizon).Prepend(begin).ToList();
        double longest = during.Zip(during.Skip(1), (a, b) => b - a).DefaultIfEmpty(samples.Count > 0 ? Math.Max(0, Math.Min(horizon, samples[^1].T) - begin) : 0).Max();
        double? recovered = advances.Where(t => t >= end).Select(t => (double?)(t - begin)).FirstOrDefault();
        return new FaultFigures(r, detected, Math.Max(0, longest - usual), recovered);
    }

    /// <summary>
    /// The accounting of a run's updates from its summary.json, per worker: <c>sent</c> (the worker's own count, reported by its
    /// node), <c>applied</c> (accepted by the aggregator), <c>dropped</c> (refused with a reason), <c>in_flight</c> = sent - applied -
    /// dropped (sent but never seen by the aggregator: in transit at the end, lost on a faulty link, or lost with a crashed node).
    /// <c>unexplained</c> counts what no worker's send accounts for: updates a worker is credited with beyond what it sent, and
    /// applied updates not credited to any worker. sent = applied + dropped + in_flight holds exactly when it is zero.
    /// A worker on a node that crashed reported its count last up to a second before the crash: what the aggregator saw
    /// from it beyond that count was sent in that second, so its sent is the larger of the two (<c>sent_after_last_report</c>);
    /// what it reported beyond what arrived was lost with the node (in flight).
    /// </summary>
    public static JsonObject Accounting(JsonObject? summary)
    {
        var o = new JsonObject();
        if (summary?["per_worker"] is not JsonArray workers) return o;
        var crashed = (summary["workers_crashed_events"] as JsonArray ?? []).SelectMany(e => e?["workers"] as JsonArray ?? []).Select(w => Long(w)).ToHashSet();
        long sent = 0, accepted = 0, dropped = 0, inFlight = 0, unexplained = 0, afterReport = 0;
        bool counted = workers.Count > 0 && workers.All(w => w?["sent"] is not null);
        foreach (var w in workers)
        {
            long a = Long(w!["accepted"]), d = Long(w["dropped"]), s = Long(w["sent"]);
            if (counted && crashed.Contains(Long(w["worker"])) && s < a + d)
            {
                afterReport += a + d - s;
                s = a + d;
            }
            accepted += a;
            dropped += d;
            sent += s;
            if (!counted) continue;
            if (s >= a + d) inFlight += s - a - d;
            else unexplained += a + d - s;
        }
        o["sent_after_last_report"] = afterReport;
        long applied = Long(summary["updates_applied"]);
        unexplained += Math.Abs(applied - accepted);
        o["sent"] = counted ? sent : null;
        o["applied"] = applied;
        o["dropped"] = dropped;
        o["dropped_by_reason"] = summary["updates_dropped"]?.DeepClone();
        o["in_flight"] = counted ? inFlight : null;
        o["unexplained"] = unexplained;
        o["holds"] = counted && unexplained == 0 && sent == applied + dropped + inFlight;
        return o;
    }

    /// <summary>A whole number from summary.json (parsed or built in memory).</summary>
    private static long Long(JsonNode? n) => n is null ? 0 : long.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);

    private static void WriteChaosJson(string path, ChaosScenario s, int? exit, JsonObject? summary, List<FaultFigures> figures, double? baseline, LinkFaults? links)
    {
        var o = Accounting(summary);
        o["scenario"] = s.Name;
        o["run_completed"] = exit == 0;
        o["exit"] = exit;
        o["final_accuracy"] = summary?["final_test_accuracy"]?.DeepClone();
        o["baseline_accuracy"] = baseline;
        o["workers_crashed"] = summary?["workers_crashed"]?.DeepClone();
        if (links is not null)
            o["links"] = new JsonObject { ["frames_dropped"] = links.DroppedFrames, ["frames_delayed"] = links.DelayedFrames, ["frames_held"] = links.HeldFrames };
        var faults = new JsonArray();
        foreach (var f in figures)
        {
            faults.Add(new JsonObject
            {
                ["kind"] = f.Record.Fault.Action switch { FaultAction.KillHalf => "kill-half", var a => a.ToString().ToLowerInvariant() },
                ["target"] = string.Join(",", f.Record.Fault.Nodes),
                ["at_s"] = Math.Round(f.Record.AtFromStart.TotalSeconds, 2),
                ["for_s"] = Math.Round(f.Record.Fault.For.TotalSeconds, 2),
                ["detected_after_s"] = f.DetectedAfter is { } d ? Math.Round(d, 2) : null,
                ["stall_s"] = Math.Round(f.Stall, 2),
                ["recovered_after_s"] = f.RecoveredAfter is { } r ? Math.Round(r, 2) : null,
            });
        }
        o["faults"] = faults;
        File.WriteAllText(path, o.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The same experiment in one process without faults (its final accuracy is the comparison), or null when it fails.</summary>
    private static async Task<double?> Baseline(ChaosScenario s, string dir, ConcurrentQueue<string> log, Stopwatch clock)
    {
        using var local = new LocalCluster(log, clock);
        var p = local.Launch("baseline", ["run", "--quiet", "--out", dir, .. s.Experiment]);
        try
        {
            await p.WaitForExitAsync().WaitAsync(s.Timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
        var summary = Path.Combine(dir, "summary.json");
        return p.ExitCode == 0 && File.Exists(summary) ? JsonNode.Parse(File.ReadAllText(summary))?["final_test_accuracy"]?.GetValue<double>() : null;
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
        var a = Accounting(summary);
        yield return new Check("no unexplained updates", a["holds"]?.GetValue<bool>() == true && Long(a["applied"]) > 0,
            a["sent"] is null ? "the workers' sent counts are missing from summary.json"
                : $"sent {a["sent"]} = applied {a["applied"]} + dropped {a["dropped"]} + in flight {a["in_flight"]}; unexplained {a["unexplained"]}");
        long steps = summary["steps"]?.GetValue<long>() ?? 0;
        yield return new Check("every step ran", steps > 0, $"steps = {steps}");
    }

    /// <summary>A line about membership: unreachable/reachable again, a downing decision, a removal, a crash the run counted.</summary>
    internal static bool Membership(string line) =>
        line.Contains("as UNREACHABLE", StringComparison.Ordinal) || line.Contains("as REACHABLE", StringComparison.Ordinal) || line.Contains("SBR", StringComparison.Ordinal)
        || line.Contains("Downing", StringComparison.OrdinalIgnoreCase) || line.Contains("is removing", StringComparison.OrdinalIgnoreCase)
        || line.Contains("lost at step", StringComparison.Ordinal) || line.Contains("crashed at step", StringComparison.Ordinal);

    private static string Trim(string line)
    {
        int at = line.IndexOf("] ", line.IndexOf("][akka", StringComparison.Ordinal) is >= 0 and var a ? a + 1 : 0, StringComparison.Ordinal);
        var text = at >= 0 ? line[(at + 2)..] : line;
        return text.Length > 220 ? text[..220] + "..." : text;
    }

    private static string LastStep(string runDir) =>
        LiveMetrics.LastStep(Path.Combine(runDir, "metrics.csv"))?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static void WriteReport(string dir, ChaosScenario s, List<string> timeline, List<Check> checks, JsonObject? summary, bool passed, double seconds,
        ConcurrentQueue<string> log, List<FaultFigures> figures, double? baseline, IReadOnlyList<(double T, long Step)> progress)
    {
        bool plotted = ProgressPlot(Path.Combine(dir, "progress.png"), s.Name, progress, figures);
        File.WriteAllText(Path.Combine(dir, "report.csv"), Csv(s, figures, Accounting(summary)));
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
        if (figures.Count > 0)
        {
            md.AppendLine().AppendLine("## Faults").AppendLine().AppendLine("| fault | at (s) | detected after (s) | stall (s) | recovered after (s) |").AppendLine("|---|---:|---:|---:|---:|");
            static string S(double? v) => v is { } x ? x.ToString("0.0", CultureInfo.InvariantCulture) : "-";
            foreach (var f in figures)
                md.AppendLine(CultureInfo.InvariantCulture, $"| {ChaosScenario.Describe(f.Record.Fault)} | {f.Record.AtFromStart.TotalSeconds:0.0} | {S(f.DetectedAfter)} | {S(f.Stall)} | {S(f.RecoveredAfter)} |");
        }
        var accounting = Accounting(summary);
        if (accounting["sent"] is not null)
            md.AppendLine().AppendLine("## Accounting").AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"sent {accounting["sent"]} = applied {accounting["applied"]} + dropped {accounting["dropped"]} + in flight {accounting["in_flight"]}: {((bool)accounting["holds"]! ? "holds" : "DOES NOT HOLD")}; unexplained {accounting["unexplained"]}.");
        if (baseline is { } b && summary?["final_test_accuracy"] is { } acc)
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Final accuracy {acc.GetValue<double>():P2} against {b:P2} for the same experiment in one process without faults.");
        if (plotted) md.AppendLine().AppendLine("![the evaluated step over time, faults shaded](progress.png)");
        md.AppendLine().AppendLine("See chaos.json and report.csv for the same figures.");
        md.AppendLine().AppendLine("## Last lines of the processes (warnings and errors; every line is in processes.log)").AppendLine().AppendLine("```");
        foreach (var line in log.TakeLast(40)) md.AppendLine(line.Length > 300 ? line[..300] : line);
        md.AppendLine("```");
        File.WriteAllText(Path.Combine(dir, "report.md"), md.ToString());
        File.WriteAllText(Path.Combine(dir, "report.html"), Load.HtmlReport.FromMarkdown($"Chaos scenario {s.Name}", md.ToString(), dir));
    }

    /// <summary>One row per fault: what it was, its figures, and the run's accounting (repeated on each row, for spreadsheets).</summary>
    private static string Csv(ChaosScenario s, List<FaultFigures> figures, JsonObject a)
    {
        static string V(double? v) => v is { } x ? x.ToString("0.###", CultureInfo.InvariantCulture) : "";
        var csv = new StringBuilder("scenario,kind,target,at_s,for_s,detected_after_s,stall_s,recovered_after_s,sent,applied,dropped,in_flight,unexplained,holds\n");
        foreach (var f in figures.DefaultIfEmpty())
        {
            csv.Append(CultureInfo.InvariantCulture, $"{s.Name},{f?.Record.Fault.Action.ToString().ToLowerInvariant()},{(f is null ? "" : string.Join(' ', f.Record.Fault.Nodes))},")
                .Append(CultureInfo.InvariantCulture, $"{V(f?.Record.AtFromStart.TotalSeconds)},{V(f?.Record.Fault.For.TotalSeconds)},{V(f?.DetectedAfter)},{V(f?.Stall)},{V(f?.RecoveredAfter)},")
                .Append(CultureInfo.InvariantCulture, $"{a["sent"]},{a["applied"]},{a["dropped"]},{a["in_flight"]},{a["unexplained"]},{a["holds"]}\n");
        }
        return csv.ToString();
    }

    /// <summary>The evaluated step against time since training started, each fault's window shaded; false when there is nothing to plot.</summary>
    private static bool ProgressPlot(string path, string name, IReadOnlyList<(double T, long Step)> progress, List<FaultFigures> figures)
    {
        if (progress.Count < 2) return false;
        var plot = new ScottPlot.Plot();
        double t0 = progress[0].T;
        foreach (var f in figures)
        {
            double a = f.Record.Began.TotalSeconds - t0, b = Math.Max(f.Record.Ended.TotalSeconds - t0, a + 0.3);
            var span = plot.Add.HorizontalSpan(a, b);
            span.LegendText = ChaosScenario.Describe(f.Record.Fault);
            span.FillStyle.Color = ScottPlot.Colors.OrangeRed.WithAlpha(0.2);
        }
        var line = plot.Add.Scatter(progress.Select(p => p.T - t0).ToArray(), progress.Select(p => (double)p.Step).ToArray());
        line.LegendText = "last evaluated step";
        line.MarkerSize = 0;
        plot.Title($"{name}: training progress under faults");
        plot.XLabel("seconds since training started");
        plot.YLabel("step");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 800, 450);
        return true;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>The scenario's node processes: the built CLI started with <c>dotnet actors.dll</c>, stopped with the runner.</summary>
    internal sealed class LocalCluster(ConcurrentQueue<string> log, Stopwatch clock, LinkFaults? links = null) : IDisposable
    {
        private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(60);
        private readonly Dictionary<string, (Process Process, string[] Args)> _nodes = [];
        private readonly ConcurrentDictionary<string, bool> _up = new();
        private readonly List<Process> _all = [];
        private readonly ConcurrentDictionary<int, string> _pids = new();
        private readonly Dictionary<string, Dictionary<string, string>> _env = [];
        private readonly List<FaultProxy> _proxies = [];

        /// <summary>The link faults every proxy applies; null when the links are direct.</summary>
        public LinkFaults? Links => links;

        /// <summary>The cluster's node names (seed, node-1, ...).</summary>
        public IEnumerable<string> Names => _nodes.Keys;

        /// <summary>Every line the processes printed, with the second it arrived.</summary>
        public ConcurrentQueue<(double T, string Name, string Line)> Lines { get; } = new();

        /// <summary>
        /// The port other nodes dial for <paramref name="name"/>: with proxied links, two fault proxies are made for the node (its
        /// Akka port <paramref name="port"/> and a side-channel port) and the node is told to advertise them; otherwise the port itself.
        /// </summary>
        public int AdvertisedPort(string name, int port)
        {
            if (links is null) return port;
            int bulk = FreePort();
            var akkaProxy = new FaultProxy(name, port, Framing.Akka, links, Owner);
            _proxies.Add(akkaProxy);
            var bulkProxy = new FaultProxy(name, bulk, Framing.Bulk, links, Owner);
            _proxies.Add(bulkProxy);
            _env[name] = new Dictionary<string, string>
            {
                ["ACTORS_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["ACTORS_PUBLIC_PORT"] = akkaProxy.Port.ToString(CultureInfo.InvariantCulture),
                ["ACTORS_TRANSPORT_PORT"] = bulk.ToString(CultureInfo.InvariantCulture),
                ["ACTORS_TRANSPORT_PUBLIC_PORT"] = bulkProxy.Port.ToString(CultureInfo.InvariantCulture),
            };
            return akkaProxy.Port;
        }

        private string Owner(int clientPort, int proxyPort) => SocketOwners.Find(clientPort, proxyPort, new Dictionary<int, string>(_pids));

        public async Task Start(string name, string[] args)
        {
            // Proxied links: a worker node gets its ports and proxies here (the seed got them from AdvertisedPort before its start).
            if (links is not null && !_env.ContainsKey(name)) AdvertisedPort(name, FreePort());
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
            // INFO: the membership changes (reachable again, the resolver's decisions, removals) are logged at that level; the
            // report's tail keeps WARNING and above.
            info.Environment["ACTORS_LOGLEVEL"] = "INFO";
            info.Environment[ParentWatch.Variable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture); // children stop when the runner is gone
            if (_env.TryGetValue(name, out var env))
                foreach (var (k, v) in env) info.Environment[k] = v;
            var p = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
            _all.Add(p);
            _pids[p.Id] = name;
            p.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                Lines.Enqueue((clock.Elapsed.TotalSeconds, name, e.Data));
                if (e.Data.StartsWith("[INFO]", StringComparison.Ordinal) || e.Data.StartsWith("[DEBUG]", StringComparison.Ordinal)) return;
                log.Enqueue($"[{clock.Elapsed.TotalSeconds,6:0.0} {name}] {e.Data}");
                if (e.Data.Contains(" up: ", StringComparison.Ordinal)) _up[name] = true;
            };
            p.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                log.Enqueue($"[{clock.Elapsed.TotalSeconds,6:0.0} {name}!] {e.Data}");
                Lines.Enqueue((clock.Elapsed.TotalSeconds, name, e.Data));
            };
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
            foreach (var proxy in _proxies) proxy.Dispose();
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

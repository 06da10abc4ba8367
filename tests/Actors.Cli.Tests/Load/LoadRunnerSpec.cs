using System.Text.RegularExpressions;
using Actors.LoadTests.Load;
using Microsoft.Playwright;

namespace Actors.Cli.Tests.Load;

/// <summary>
/// The load runner's concepts against steps whose timing is known: the closed model keeps its copies busy, the open model
/// keeps its rate however slow the answers, a bounded open model refuses what it cannot start, ramps interpolate, failures
/// and exceptions are counted by message, thresholds fail the scenario; the report folder has every file, and its HTML
/// opens in a browser with the network cut off.
/// </summary>
public sealed partial class LoadRunnerSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-load-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static LoadStep Sleep(string name, int ms, Func<StepContext, StepResult>? result = null) =>
        new(name, async c =>
        {
            await Task.Delay(ms, c.Cancellation);
            return result?.Invoke(c) ?? StepResult.Success(1000);
        });

    [Fact]
    public async Task The_closed_model_keeps_its_copies_busy_and_times_every_step()
    {
        int inFlight = 0, most = 0;
        var a0 = new LoadStep("a", async c =>
        {
            InterlockedMax(ref most, Interlocked.Increment(ref inFlight));
            await Task.Delay(20, c.Cancellation);
            Interlocked.Decrement(ref inFlight);
            return StepResult.Success(1000);
        });
        var r = await LoadRunner.RunAsync(new LoadScenario("closed", [a0, Sleep("b", 5)], [new LoadSimulation.KeepConstant(3, TimeSpan.FromSeconds(1))]));
        Assert.Null(r.Error);
        var a = r.Steps.Single(s => s.Step == "a");
        var b = r.Steps.Single(s => s.Step == "b");
        Assert.Equal(3, most); // exactly the copies asked for, each waiting for its own answer
        // 3 copies, ~25 ms an iteration: ~120 iterations in a second (a loaded machine sleeps longer: fewer, never more)
        Assert.InRange(a.Ok, 3, 125);
        Assert.InRange(b.Ok, a.Ok - 3, a.Ok); // b runs after a in every iteration
        Assert.Equal(0, a.Fail);
        Assert.True(a.P50Ms >= 19, $"p50 {a.P50Ms}");
        Assert.True(a.P99Ms >= a.P50Ms && a.MaxMs >= a.P99Ms);
        Assert.True(b.P50Ms is >= 4 and < 20, $"p50 {b.P50Ms}");
        Assert.InRange(a.MBPerSecond, a.OkPerSecond * 1000 / 1e6 * 0.99, a.OkPerSecond * 1000 / 1e6 * 1.01);
    }

    [Fact]
    public async Task The_open_model_keeps_its_rate_however_slow_the_answers_and_refuses_beyond_its_bound()
    {
        int inFlight = 0, most = 0;
        var slow = new LoadStep("slow", async c =>
        {
            int now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            await Task.Delay(300, c.Cancellation);
            Interlocked.Decrement(ref inFlight);
            return StepResult.Success();
        });
        var r = await LoadRunner.RunAsync(new LoadScenario("open", [slow], [new LoadSimulation.Inject(40, TimeSpan.FromSeconds(1))]));
        Assert.InRange(r.Steps[0].Ok, 34, 42); // 40 arrivals, each waited 300 ms: the arrivals did not wait for each other
        Assert.True(most >= 8, $"at most {most} in flight");

        var bounded = await LoadRunner.RunAsync(new LoadScenario("bounded", [slow], [new LoadSimulation.Inject(40, TimeSpan.FromSeconds(1))]) { MaxInFlight = 2 });
        Assert.True(bounded.Steps[0].Fail > 20, $"{bounded.Steps[0].Fail} refused");
        Assert.Contains(bounded.Steps[0].Errors.Keys, k => k.Contains("overloaded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_ramp_moves_linearly_from_the_previous_level()
    {
        var r = await LoadRunner.RunAsync(new LoadScenario("ramp", [Sleep("s", 1)], [new LoadSimulation.RampingInject(100, TimeSpan.FromSeconds(1))]));
        Assert.InRange(r.Steps[0].Ok, 40, 60); // the area under 0 -> 100 per second over one second
    }

    [Fact]
    public async Task Failures_and_exceptions_are_counted_by_message_and_thresholds_fail_the_scenario()
    {
        var flaky = new LoadStep("flaky", c => c.Invocation % 2 == 0
            ? Task.FromResult(StepResult.Fail("even invocation"))
            : throw new InvalidOperationException("odd one"));
        var r = await LoadRunner.RunAsync(new LoadScenario("flaky", [flaky, Sleep("never", 1)], [new LoadSimulation.Inject(50, TimeSpan.FromSeconds(0.6))])
        {
            Thresholds = [Threshold.Parse("flaky:failpercent<=10"), Threshold.Parse("never:okpersecond>=1"), new Threshold("missing", Metric.P99Ms, 1)],
        });
        var s = r.Steps[0];
        Assert.Equal(0, s.Ok);
        Assert.Equal(100, s.FailPercent);
        Assert.Contains("even invocation", s.Errors.Keys);
        Assert.Contains(s.Errors.Keys, k => k.Contains("odd one", StringComparison.Ordinal));
        Assert.Equal(0, r.Steps[1].Ok + r.Steps[1].Fail); // a failed step ends its iteration
        Assert.False(r.Passed);
        Assert.Equal(3, r.Thresholds.Count(t => !t.Holds));

        var fine = await LoadRunner.RunAsync(new LoadScenario("fine", [Sleep("s", 1)], [new LoadSimulation.KeepConstant(1, TimeSpan.FromSeconds(0.3))])
        {
            Thresholds = [Threshold.Parse("p99ms<=1000"), Threshold.Parse("failpercent<=0")],
        });
        Assert.True(fine.Passed);
    }

    [Fact]
    public void Thresholds_parse_and_a_bad_one_says_what_is_valid()
    {
        Assert.Equal(new Threshold("apply", Metric.P99Ms, 1000), Threshold.Parse("apply:p99ms<=1000"));
        Assert.Equal(new Threshold(null, Metric.OkPerSecond, 5, AtMost: false), Threshold.Parse("okpersecond>=5"));
        Assert.Equal(new Threshold(null, Metric.FailPercent, 1), Threshold.Parse("fail_percent<=1"));
        Assert.Contains("P99Ms", Assert.Throws<ArgumentException>(() => Threshold.Parse("latency<=5")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Threshold.Parse("p99ms=5"));
    }

    [Fact]
    public async Task The_report_folder_has_every_file_and_the_html_opens_offline_in_a_browser()
    {
        var r = await LoadRunner.RunAsync(new LoadScenario("report", [Sleep("s", 2, c => c.Invocation % 10 == 0 ? StepResult.Fail("tenth") : StepResult.Success(10))],
            [new LoadSimulation.Inject(100, TimeSpan.FromSeconds(1.5))]) { Thresholds = [Threshold.Parse("p99ms<=5000")] });
        LoadReport.Write(_dir, "spec report", [r], ["a note"]);
        foreach (var f in new[] { "report.md", "report.csv", "timeline.csv", "report.html", "report-latency.png", "report-throughput.png" })
            Assert.True(new FileInfo(Path.Combine(_dir, f)).Length > 0, f);
        var csv = File.ReadAllLines(Path.Combine(_dir, "report.csv"));
        Assert.StartsWith("scenario,step,ok,fail,fail_percent,ok_per_s,mean_ms,p50_ms,p75_ms,p95_ms,p99_ms,max_ms", csv[0], StringComparison.Ordinal);
        Assert.Matches(@"^report,s,1[23]\d,1[3-6],", csv[1]);
        var md = File.ReadAllText(Path.Combine(_dir, "report.md"));
        Assert.Contains("| s |", md, StringComparison.Ordinal);
        Assert.Contains("tenth", md, StringComparison.Ordinal);

        var html = File.ReadAllText(Path.Combine(_dir, "report.html"));
        Assert.DoesNotMatch(ExternalReference(), html); // no CDN, no link out: the file is the whole report
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        var context = await browser.NewContextAsync(new() { Offline = true });
        var page = await context.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, q) => requests.Add(q.Url);
        await page.GotoAsync(new Uri(Path.Combine(_dir, "report.html")).AbsoluteUri);
        Assert.Contains("report: passed", await page.InnerTextAsync("h2"), StringComparison.Ordinal);
        var widths = await page.EvalOnSelectorAllAsync<int[]>("img", "imgs => imgs.map(i => i.naturalWidth)");
        Assert.Equal(2, widths.Length);
        Assert.All(widths, w => Assert.Equal(800, w)); // both plots decoded from the page itself
        Assert.All(requests, u => Assert.True(u.StartsWith("file:", StringComparison.Ordinal) || u.StartsWith("data:", StringComparison.Ordinal), u));
    }

    [Fact(Timeout = 120_000)]
    public async Task The_transport_scenario_runs_on_a_real_two_node_cluster_and_a_threshold_that_fails_exits_1()
    {
        // 4 kB (an Akka message) and 4 MB (the side channel) against raw TCP; an impossible extra threshold fails the command.
        int exit = await LoadCommand.Run(["transport", "--quick", "--sizes-kb", "4,4096", "--duration-s", "1", "--threshold", "send:maxms<=0.001", "--out", _dir]);
        Assert.Equal(1, exit);
        var run = Directory.GetDirectories(_dir).Single();
        var csv = File.ReadAllText(Path.Combine(run, "report.csv"));
        foreach (var scenario in new[] { "transport-raw-4kB", "transport-actors-4kB", "transport-side-channel-4kB", "transport-raw-4MB", "transport-actors-4MB" })
            Assert.Contains($"\n{scenario},send,", csv, StringComparison.Ordinal);
        var md = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("| send: MaxMs <= 0.001 |", md, StringComparison.Ordinal);
        Assert.Contains("FAILED", md, StringComparison.Ordinal);
        Assert.Contains("| send: OkPerSecond >= ", md, StringComparison.Ordinal); // the 4 MB bar (half of raw TCP) is a threshold of the run; its figure is measured, not asserted here
        Assert.Equal(2, await LoadCommand.Run(["transport", "--out", _dir, "--threshold", "latency<=1"]));
        Assert.Equal(2, await LoadCommand.Run(["transport"])); // --out is required
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    [GeneratedRegex(@"(src|href)\s*=\s*""(https?:)?//", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}

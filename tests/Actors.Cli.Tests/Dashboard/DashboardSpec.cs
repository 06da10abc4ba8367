using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Cli.Commands;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Actors.Cli.Tests.Dashboard;

/// <summary>
/// The live dashboard in a real browser: Debian's Chromium driven by Playwright (no browser download), against a real
/// `actors run --dashboard` process. The step counter and the accuracy curve change while the run works, the final
/// accuracy shown equals summary.json, and only GET exists. A screenshot is kept as a test artifact.
/// </summary>
public sealed class DashboardSpec(ITestOutputHelper output) : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-dashboard-tests", Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> _log = new();
    private Process? _run;

    public void Dispose()
    {
        if (_run is { HasExited: false }) _run.Kill(entireProcessTree: true);
        _run?.Dispose();
        foreach (var line in _log.TakeLast(30)) output.WriteLine(line);
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_page_follows_a_run_in_a_real_browser_and_shows_the_final_accuracy_of_summary_json()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)");
        var runDir = Path.Combine(_dir, "run");
        var address = await StartWithDashboard(["run", "--quiet", "--dashboard", "0", "--dashboard-hold", "60", "--out", runDir,
            "--set", "experiment.steps=500", "--set", "experiment.eval-every=50"], TimeSpan.FromSeconds(30));
        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal); // loopback by default

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(address);

        // The step counter moves while the run works.
        await page.WaitForFunctionAsync("() => /^\\d+ \\/ 500$/.test(document.getElementById('step').textContent)");
        var first = await page.InnerTextAsync("#step");
        await page.WaitForFunctionAsync($"() => document.getElementById('step').textContent !== '{first}'");
        // The accuracy curve grows: more evaluated points later than now.
        await page.WaitForFunctionAsync("() => { const c = document.getElementById('accuracy-curve'); return c && +c.dataset.points >= 1; }");
        int pointsEarly = int.Parse(await page.GetAttributeAsync("#accuracy-curve", "data-points") ?? "0", CultureInfo.InvariantCulture);
        await page.WaitForFunctionAsync($"() => +document.getElementById('accuracy-curve').dataset.points > {pointsEarly}");
        Assert.True(pointsEarly < 11, $"the curve should still be growing when first seen ({pointsEarly} points)");

        // The final accuracy shown is summary.json's.
        await page.WaitForFunctionAsync("() => document.getElementById('final').dataset.value !== ''", null, new() { Timeout = 90_000 });
        var shown = double.Parse(await page.GetAttributeAsync("#final", "data-value") ?? "nan", CultureInfo.InvariantCulture);
        var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(runDir, "summary.json")))!.AsObject();
        Assert.Equal(summary["final_test_accuracy"]!.GetValue<double>(), shown);
        Assert.Equal("500 / 500", await page.InnerTextAsync("#step"));
        // Staleness and drops by reason come from the aggregator's book: a synchronous run has none of either.
        Assert.Equal("0.00 / 0", await page.InnerTextAsync("#staleness"));
        Assert.Equal("0", await page.InnerTextAsync("#dropped"));
        Assert.Equal(11, int.Parse(await page.GetAttributeAsync("#accuracy-curve", "data-points") ?? "0", CultureInfo.InvariantCulture));

        var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "dashboard.png"), FullPage = true });
        output.WriteLine($"screenshot: {Path.Combine(artifacts, "dashboard.png")}");

        // Read-only: nothing but GET, and /metrics is Prometheus text with the documented names.
        using var http = new HttpClient();
        var post = await http.PostAsync(new Uri(new Uri(address), "api/state"), new StringContent(""));
        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, post.StatusCode);
        var metrics = await http.GetStringAsync(new Uri(new Uri(address), "metrics"));
        var samples = metrics.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(' ')).ToDictionary(p => p[0][..p[0].IndexOf('{', StringComparison.Ordinal)], p => double.Parse(p[1], CultureInfo.InvariantCulture));
        Assert.Equal(500, samples["actors_step"]);
        Assert.Equal(500, samples["actors_steps_total"]);
        Assert.Equal(summary["final_test_accuracy"]!.GetValue<double>(), samples["actors_test_accuracy"]);
        Assert.Equal(summary["updates_applied"]!.GetValue<long>(), samples["actors_updates_applied"]);
        Assert.Contains("# TYPE actors_bytes_sent gauge", metrics, StringComparison.Ordinal);
    }

    [Fact(Timeout = 150_000)]
    public async Task The_cluster_page_of_up_lists_the_three_members_and_shows_a_killed_worker_node_as_gone()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)");
        int port = TestProcesses.FreePort();
        var address = await StartWithDashboard(["up", "--nodes", "3", "--port", port.ToString(CultureInfo.InvariantCulture), "--dashboard", "0"], TimeSpan.FromSeconds(60));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(address);
        await page.WaitForFunctionAsync("() => document.querySelectorAll('tr.member[data-reachable=\"true\"]').length === 3", null, new() { Timeout = 60_000 });
        var roles = await page.InnerTextAsync("#members");
        Assert.Contains("coordinator", roles, StringComparison.Ordinal);
        Assert.Contains("worker", roles, StringComparison.Ordinal);

        // Kill one worker node process (a child of up): the page shows it unreachable, then gone; up and the others stay.
        var worker = Process.GetProcesses().Where(p => TestProcesses.ParentOf(p.Id) == _run!.Id)
            .First(p => File.ReadAllText($"/proc/{p.Id}/cmdline").Contains("worker", StringComparison.Ordinal));
        worker.Kill();
        await page.WaitForFunctionAsync("() => document.querySelectorAll('tr.member[data-reachable=\"true\"]').length === 2", null, new() { Timeout = 60_000 });
        Assert.False(_run!.HasExited, "up carries on without the killed node");
        var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "dashboard-cluster.png"), FullPage = true });
    }

    [Fact(Timeout = 120_000)]
    public async Task The_sweep_page_counts_cells_done_running_and_left_until_the_grid_is_done()
    {
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "grid.hocon");
        await File.WriteAllTextAsync(file, """
            experiment { name = grid, steps = 300, eval-every = 100 }
            data { dataset = synthetic, synthetic { train = 1000, test = 300 } }
            model.type = logreg
            workers.honest = 2
            sweep {
              axes { "optimizer.lr" = [0.05, 0.1] }
              seeds = [1, 2]
            }
            """);
        var address = new Uri(await StartWithDashboard(["sweep", file, "--out", Path.Combine(_dir, "sweep"), "--parallel", "1", "--dashboard", "0"], TimeSpan.FromSeconds(30)));
        using var http = new HttpClient();
        var states = new List<(int Done, int Running, int Left)>();
        while (!_run!.HasExited)
        {
            try
            {
                var s = JsonNode.Parse(await http.GetStringAsync(new Uri(address, "api/state")))!.AsObject();
                states.Add((s["done"]!.GetValue<int>(), s["running"]!.GetValue<int>(), s["left"]!.GetValue<int>()));
            }
            catch (HttpRequestException)
            {
                break; // the sweep ended and took the dashboard with it
            }
            await Task.Delay(100);
        }
        await _run.WaitForExitAsync();
        Assert.Equal(0, _run.ExitCode);
        Assert.All(states, s => Assert.Equal(4, s.Done + s.Running + s.Left));
        Assert.Equal((0, 4), (states[0].Done, states[0].Done + states[0].Left + states[0].Running)); // nothing done at first
        Assert.Contains(states, s => s.Done is > 0 and < 4); // seen part-way
        Assert.True(states.Select(s => s.Done).SequenceEqual(states.Select(s => s.Done).Order()), "done only grows");
    }

    /// <summary>Starts the CLI with <paramref name="args"/> (which ask for a dashboard) and returns the address it prints.</summary>
    private async Task<string> StartWithDashboard(string[] args, TimeSpan wait)
    {
        var info = UpCommand.SelfStartInfo(args);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _run = Process.Start(info)!;
        _run.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _log.Enqueue(e.Data);
            if (e.Data.StartsWith("dashboard: http", StringComparison.Ordinal)) url.TrySetResult(e.Data["dashboard: ".Length..].Split(' ')[0]);
        };
        _run.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue("! " + e.Data); };
        _run.BeginOutputReadLine();
        _run.BeginErrorReadLine();
        return await url.Task.WaitAsync(wait);
    }
}

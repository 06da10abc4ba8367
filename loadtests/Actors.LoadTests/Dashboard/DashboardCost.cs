using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Actors.LoadTests.Chaos;

namespace Actors.LoadTests.Dashboard;

/// <summary>
/// `dashboard-cost [--runs 3] [--set k=v]...`: the default experiment as child processes of the built CLI, alternating
/// without and with `--dashboard 0` (a browser-less client polling /api/state and /metrics twice a second while it runs),
/// and the ratio of the median training wall times (summary.json `wall_time_s`). Target: under 1.03.
/// </summary>
public static class DashboardCost
{
    public static async Task<int> Run(string[] args)
    {
        int runs = 3;
        var sets = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--runs" && i + 1 < args.Length) runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--set" && i + 1 < args.Length) sets.AddRange(["--set", args[++i]]);
            else
            {
                Console.Error.WriteLine("usage: actors-loadtests dashboard-cost [--runs 3] [--set key=value]...");
                return 2;
            }
        }
        var dir = Path.Combine(Path.GetTempPath(), "actors-dashboard-cost-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var plain = new List<double>();
        var with = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            plain.Add(await Once(Path.Combine(dir, $"plain-{r}"), dashboard: false, sets).ConfigureAwait(false));
            with.Add(await Once(Path.Combine(dir, $"dashboard-{r}"), dashboard: true, sets).ConfigureAwait(false));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {r + 1}: without {plain[^1]:0.00} s, with dashboard {with[^1]:0.00} s"));
        }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        double ratio = Median(with) / Median(plain);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median wall time: without {Median(plain):0.00} s, with dashboard {Median(with):0.00} s; ratio {ratio:0.000} (target < 1.03)"));
        Directory.Delete(dir, recursive: true);
        return 0;
    }

    private static async Task<double> Once(string outDir, bool dashboard, List<string> sets)
    {
        var info = new ProcessStartInfo("dotnet") { ArgumentList = { typeof(Actors.Cli.CliApp).Assembly.Location, "run", "--quiet", "--out", outDir }, UseShellExecute = false };
        if (dashboard) foreach (var a in new[] { "--dashboard", "0" }) info.ArgumentList.Add(a);
        foreach (var s in sets) info.ArgumentList.Add(s);
        info.WorkingDirectory = ChaosRunner.RepoRoot();
        info.RedirectStandardOutput = true;
        using var p = Process.Start(info) ?? throw new InvalidOperationException("could not start actors");
        using var http = new HttpClient();
        string? url = null;
        var polling = Task.CompletedTask;
        while (await p.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (url is null && line.StartsWith("dashboard: http", StringComparison.Ordinal))
            {
                url = line["dashboard: ".Length..].Split(' ')[0];
                polling = Poll(http, url, p);
            }
        }
        await p.WaitForExitAsync().ConfigureAwait(false);
        await polling.ConfigureAwait(false);
        if (p.ExitCode != 0) throw new InvalidOperationException($"actors run exited with {p.ExitCode}");
        var summary = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "summary.json")).ConfigureAwait(false))!.AsObject();
        return summary["wall_time_s"]!.GetValue<double>();
    }

    /// <summary>A watcher as a browser would be: the state and the metrics twice a second until the run ends.</summary>
    private static async Task Poll(HttpClient http, string url, Process p)
    {
        while (!p.HasExited)
        {
            try
            {
                await http.GetStringAsync(new Uri(new Uri(url), "api/state")).ConfigureAwait(false);
                await http.GetStringAsync(new Uri(new Uri(url), "metrics")).ConfigureAwait(false);
            }
            catch (HttpRequestException)
            {
                return; // the run ended
            }
            await Task.Delay(500).ConfigureAwait(false);
        }
    }
}

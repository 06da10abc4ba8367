using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Actors.Cli.Dashboard;

/// <summary>
/// The live dashboard of a run (<c>actors run --dashboard [PORT]</c>): a read-only web page (embedded, no network needed)
/// fed by server-sent events, the same state as JSON (<c>/api/state</c>), and Prometheus text at <c>/metrics</c>. It reads what
/// the run already writes (its RunProgress and the run directory's metrics.csv, config.hocon and summary.json), so it costs
/// the training path nothing. Binds to 127.0.0.1 unless told otherwise; only GET endpoints exist.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IDashboardSource _state;

    private DashboardServer(WebApplication app, IDashboardSource state, Uri url)
    {
        _app = app;
        _state = state;
        Url = url;
    }

    public const int DefaultPort = 8090;

    /// <summary>
    /// The dashboard a verb's `--dashboard [PORT]` asks for, started and its address printed; null when the flag is absent
    /// (then <paramref name="source"/> is not built).
    /// </summary>
    public static async Task<DashboardServer?> StartIfAsked(Spectre.Console.Cli.FlagValue<int>? flag, IReadOnlyList<string> arguments, string bind,
        Func<IDashboardSource> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (flag is not { IsSet: true }) return null;
        var state = source();
        DashboardServer server;
        try
        {
            server = await Start(state, Port(flag, arguments), bind).ConfigureAwait(false);
        }
        catch
        {
            state.Dispose(); // its meter and, for a cluster, its polling loop
            throw;
        }
        Console.WriteLine($"dashboard: {server.Url}");
        return server;
    }

    /// <summary>The port `--dashboard [PORT]` asks for: a bare `--dashboard` is <see cref="DefaultPort"/>, `--dashboard 0` a free one.</summary>
    public static int Port(Spectre.Console.Cli.FlagValue<int> flag, IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(flag);
        ArgumentNullException.ThrowIfNull(arguments);
        bool explicitPort = arguments.SkipWhile(a => a != "--dashboard").Skip(1).FirstOrDefault() is { } next
                            && int.TryParse(next, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
        return explicitPort ? flag.Value : DefaultPort;
    }

    /// <summary>Where the page is (the port actually bound when 0 was asked for).</summary>
    public Uri Url { get; }

    public static async Task<DashboardServer> Start(IDashboardSource state, int port, string bind = "127.0.0.1")
    {
        ArgumentNullException.ThrowIfNull(state);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(state.MeterName).AddPrometheusExporter());
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{bind}:{port}"));
        var app = builder.Build();
        var page = LoadPage();
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        app.MapGet("/api/state", () => Results.Content(state.Snapshot().ToJsonString(), "application/json"));
        app.MapPrometheusScrapingEndpoint(); // GET /metrics
        app.MapGet("/events", async (HttpContext http) =>
        {
            http.Response.Headers.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            string last = "";
            var stopping = http.RequestAborted;
            while (!stopping.IsCancellationRequested)
            {
                var json = state.Snapshot().ToJsonString();
                if (json != last)
                {
                    await http.Response.WriteAsync($"data: {json}\n\n", stopping).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(stopping).ConfigureAwait(false);
                    last = json;
                }
                try
                {
                    await Task.Delay(250, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new UserInputException($"--dashboard: cannot listen on {bind}:{port} ({e.Message}); choose another port (--dashboard 0 picks a free one)");
        }
        var address = app.Urls.First();
        return new DashboardServer(app, state, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    private static string LoadPage()
    {
        using var stream = typeof(DashboardServer).Assembly.GetManifestResourceStream("Actors.Cli.Dashboard.index.html")
                           ?? throw new InvalidOperationException("the dashboard page is not embedded in the build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _state.Dispose();
    }
}

/// <summary>What a dashboard shows: its state as JSON (the page and /api/state) and as Prometheus text (/metrics).</summary>
public interface IDashboardSource : IDisposable
{
    JsonObject Snapshot();

    /// <summary>The <see cref="Meter"/> whose instruments /metrics exports (OpenTelemetry's Prometheus exporter).</summary>
    string MeterName { get; }
}

/// <summary>
/// What the dashboard shows, read on demand from the run: step and last figures from its <see cref="RunProgress"/>, the rows
/// of metrics.csv, the resolved config, and the final figures once summary.json exists. The same figures are .NET metrics
/// instruments (meter <see cref="MeterName"/>), rendered as Prometheus text with the documented <c>actors_</c> names.
/// </summary>
public sealed class DashboardState : IDashboardSource
{
    public string MeterName => DashboardMeters.Name;
    private readonly string _runDirectory;
    private readonly string _name;
    private readonly RunProgress _progress;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Meter _meter = new(DashboardMeters.Name);
    private readonly object _gate = new();
    private (long Length, List<string[]> Rows, string[] Header) _csv = (-1, [], []);

    public DashboardState(string name, string runDirectory, RunProgress progress)
    {
        _name = name;
        _runDirectory = runDirectory;
        _progress = progress ?? throw new ArgumentNullException(nameof(progress));
        var run = new KeyValuePair<string, object?>("run", name);
        _meter.CreateObservableGauge("actors_step", () => new Measurement<long>(_progress.Step, run), description: "training step reached");
        _meter.CreateObservableGauge("actors_steps_total", () => new Measurement<long>(_progress.TotalSteps, run), description: "steps the run will take");
        _meter.CreateObservableGauge("actors_test_accuracy", () => new Measurement<double>(_progress.LastAccuracy, run), description: "test accuracy at the last evaluation");
        _meter.CreateObservableGauge("actors_test_loss", () => new Measurement<double>(_progress.LastLoss, run), description: "test loss at the last evaluation");
        // From the last evaluation row (metrics.csv): what the run had done by then.
        foreach (var (column, metric, help) in new[]
                 {
                     ("updates_applied", "actors_updates_applied", "updates applied by the last evaluation"),
                     ("messages_sent", "actors_messages_sent", "learning messages sent by the last evaluation"),
                     ("bytes_sent", "actors_bytes_sent", "learning-message payload bytes sent by the last evaluation"),
                     ("virtual_time_s", "actors_virtual_time_seconds", "virtual (simulation) or wall (realtime) time at the last evaluation"),
                 })
            _meter.CreateObservableGauge(metric, () => LastRow(column) is { } v ? [new Measurement<double>(v, run)] : Array.Empty<Measurement<double>>(), description: help);
    }

    /// <summary>The state as the page and /api/state see it.</summary>
    public JsonObject Snapshot()
    {
        var (header, rows) = Rows();
        long step = _progress.Step, total = _progress.TotalSteps;
        double elapsed = _clock.Elapsed.TotalSeconds;
        var columns = new JsonArray();
        foreach (var h in header) columns.Add(h);
        var data = new JsonArray();
        foreach (var r in rows)
        {
            var row = new JsonArray();
            foreach (var v in r) row.Add(double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null);
            data.Add(row);
        }
        var state = new JsonObject
        {
            ["name"] = _name,
            ["step"] = step,
            ["steps"] = total,
            ["elapsed_s"] = Math.Round(elapsed, 1),
            ["eta_s"] = step > 0 && step < total ? Math.Round(elapsed * (total - step) / step, 1) : null,
            ["columns"] = columns,
            ["rows"] = data,
            ["config"] = ReadText("config.hocon"),
        };
        if (_progress.LastBook is { } book)
        {
            var drops = new JsonObject();
            foreach (var (reason, count) in book.Drops.OrderBy(d => d.Key, StringComparer.Ordinal)) drops[reason] = count;
            state["updates_dropped"] = drops;
            state["staleness_mean"] = Math.Round(book.StalenessMean, 4);
            state["staleness_max"] = book.StalenessMax;
        }
        if (ReadText("summary.json") is { Length: > 0 } summary)
        {
            try
            {
                var s = JsonNode.Parse(summary)!.AsObject();
                state["done"] = true;
                state["final_test_accuracy"] = s["final_test_accuracy"]?.DeepClone();
                state["final_test_loss"] = s["final_test_loss"]?.DeepClone();
                state["updates_dropped"] = s["updates_dropped"]?.DeepClone();
                state["staleness_mean"] = s["staleness_mean"]?.DeepClone();
                state["staleness_max"] = s["staleness_max"]?.DeepClone();
            }
            catch (JsonException)
            {
                // being written: next time
            }
        }
        return state;
    }

    private double? LastRow(string column)
    {
        var (header, rows) = Rows();
        int i = Array.IndexOf(header, column);
        return rows.Count > 0 && i >= 0 && i < rows[^1].Length && double.TryParse(rows[^1][i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>metrics.csv as it is now, re-read only when it grew.</summary>
    private (string[] Header, List<string[]> Rows) Rows()
    {
        var path = Path.Combine(_runDirectory, "metrics.csv");
        long length = File.Exists(path) ? new FileInfo(path).Length : -1;
        lock (_gate)
        {
            if (length != _csv.Length)
            {
                var (header, rows) = LiveMetrics.Read(path);
                _csv = (length, rows, header);
            }
            return (_csv.Header, _csv.Rows);
        }
    }

    private string? ReadText(string file)
    {
        var path = Path.Combine(_runDirectory, file);
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>The meter every dashboard's instruments belong to (one dashboard per process).</summary>
public static class DashboardMeters
{
    public const string Name = "Actors";
}

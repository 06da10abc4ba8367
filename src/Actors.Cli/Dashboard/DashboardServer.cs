using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{bind}:{port}"));
        var app = builder.Build();
        var page = LoadPage();
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        app.MapGet("/api/state", () => Results.Content(state.Snapshot().ToJsonString(), "application/json"));
        app.MapGet("/metrics", () => Results.Content(state.Prometheus(), "text/plain; version=0.0.4; charset=utf-8"));
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

    string Prometheus();
}

/// <summary>
/// What the dashboard shows, read on demand from the run: step and last figures from its <see cref="RunProgress"/>, the rows
/// of metrics.csv, the resolved config, and the final figures once summary.json exists. The same figures are .NET metrics
/// instruments (meter <see cref="MeterName"/>), rendered as Prometheus text with the documented <c>actors_</c> names.
/// </summary>
public sealed class DashboardState : IDashboardSource
{
    public const string MeterName = "Actors";
    private readonly string _runDirectory;
    private readonly string _name;
    private readonly RunProgress _progress;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Meter _meter = new(MeterName);
    private readonly object _gate = new();
    private (long Length, List<string[]> Rows, string[] Header) _csv = (-1, [], []);

    public DashboardState(string name, string runDirectory, RunProgress progress)
    {
        _name = name;
        _runDirectory = runDirectory;
        _progress = progress ?? throw new ArgumentNullException(nameof(progress));
        _meter.CreateObservableGauge("actors_step", () => _progress.Step, description: "training step reached");
        _meter.CreateObservableGauge("actors_steps_total", () => _progress.TotalSteps, description: "steps the run will take");
        _meter.CreateObservableGauge("actors_test_accuracy", () => _progress.LastAccuracy, description: "test accuracy at the last evaluation");
        _meter.CreateObservableGauge("actors_test_loss", () => _progress.LastLoss, description: "test loss at the last evaluation");
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
        if (ReadText("summary.json") is { Length: > 0 } summary)
        {
            try
            {
                var s = JsonNode.Parse(summary)!.AsObject();
                state["done"] = true;
                state["final_test_accuracy"] = s["final_test_accuracy"]?.DeepClone();
                state["final_test_loss"] = s["final_test_loss"]?.DeepClone();
                state["updates_dropped"] = s["updates_dropped"]?.DeepClone();
            }
            catch (JsonException)
            {
                // being written: next time
            }
        }
        return state;
    }

    /// <summary>Prometheus text exposition of the figures (the meter's instruments and the last metrics row's counters).</summary>
    public string Prometheus()
    {
        var sb = new StringBuilder();
        void Gauge(string name, string help, double value)
        {
            sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n");
            sb.Append(CultureInfo.InvariantCulture, $"{name}{{run=\"{Escape(_name)}\"}} {(double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "NaN")}\n");
        }
        var values = new Dictionary<string, (string Help, double Value)>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter == _meter) l.EnableMeasurementEvents(instrument); };
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => values[instrument.Name] = (instrument.Description ?? "", value));
            listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => values[instrument.Name] = (instrument.Description ?? "", value));
            listener.Start();
            listener.RecordObservableInstruments();
        }
        foreach (var (name, (help, value)) in values.OrderBy(v => v.Key, StringComparer.Ordinal)) Gauge(name, help, value);
        var (header, rows) = Rows();
        if (rows.Count > 0)
        {
            var last = rows[^1];
            foreach (var (column, name, help) in new[]
                     {
                         ("updates_applied", "actors_updates_applied", "updates applied by the last evaluation"),
                         ("messages_sent", "actors_messages_sent", "learning messages sent by the last evaluation"),
                         ("bytes_sent", "actors_bytes_sent", "learning-message payload bytes sent by the last evaluation"),
                         ("virtual_time_s", "actors_virtual_time_seconds", "virtual (simulation) or wall (realtime) time at the last evaluation"),
                     })
            {
                int i = Array.IndexOf(header, column);
                if (i >= 0 && i < last.Length && double.TryParse(last[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) Gauge(name, help, v);
            }
        }
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private (string[] Header, List<string[]> Rows) Rows()
    {
        var path = Path.Combine(_runDirectory, "metrics.csv");
        lock (_gate)
        {
            try
            {
                var info = new FileInfo(path);
                if (!info.Exists) return ([], []);
                if (info.Length != _csv.Length)
                {
                    using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    using var r = new StreamReader(s);
                    var lines = r.ReadToEnd().Split('\n');
                    // Only whole lines: the last one may be half written.
                    var complete = lines.Take(lines.Length - 1).Where(l => l.Length > 0).Select(l => l.TrimEnd('\r').Split(',')).ToList();
                    _csv = (info.Length, complete.Skip(1).ToList(), complete.Count > 0 ? complete[0] : []);
                }
                return (_csv.Header, _csv.Rows);
            }
            catch (IOException)
            {
                return (_csv.Header, _csv.Rows);
            }
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

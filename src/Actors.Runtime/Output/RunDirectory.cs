using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Output;

/// <summary>
/// Writes a run directory: config.hocon, metrics.csv (flushed per row, so a crash keeps what was measured),
/// summary.json, summary.md and accuracy.png. metrics.csv holds no wall-clock values, so identical runs give
/// identical files.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    public const string MetricsHeader = "step,test_loss,test_accuracy,updates_applied,virtual_time_s,messages_sent,bytes_sent,bytes_uplink";

    private readonly StreamWriter _metrics;
    private readonly List<EvaluationResult> _rows = [];

    public RunDirectory(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
        _metrics = new StreamWriter(System.IO.Path.Combine(Path, "metrics.csv"), false, new UTF8Encoding(false)) { NewLine = "\n" };
        _metrics.WriteLine(MetricsHeader);
        _metrics.Flush();
    }

    public string Path { get; }
    public IReadOnlyList<EvaluationResult> Rows => _rows;

    public static string DefaultPath(string name, DateTime now) =>
        System.IO.Path.Combine("runs", $"{now:yyyyMMdd-HHmmss}-{Sanitize(name)}");

    private static string Sanitize(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());

    public void WriteConfig(string hocon) => File.WriteAllText(System.IO.Path.Combine(Path, "config.hocon"), hocon);

    public void AppendMetrics(EvaluationResult r)
    {
        _rows.Add(r);
        var c = r.Counters;
        _metrics.WriteLine(string.Join(',',
            c.Step.ToString(CultureInfo.InvariantCulture), F(r.TestLoss), F(r.TestAccuracy),
            c.UpdatesApplied.ToString(CultureInfo.InvariantCulture), F(c.VirtualTimeS),
            c.MessagesSent.ToString(CultureInfo.InvariantCulture), c.BytesSent.ToString(CultureInfo.InvariantCulture),
            c.BytesUplink.ToString(CultureInfo.InvariantCulture)));
        _metrics.Flush();
    }

    private static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>Indented, and a diverged run's infinite or NaN figures are written as "Infinity"/"NaN" instead of failing.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public void WriteSummary(JsonObject summary)
    {
        // A diverged run has an infinite or NaN loss: write it as "Infinity"/"NaN" rather than lose the summary.
        var json = summary.ToJsonString(JsonOptions);
        File.WriteAllText(System.IO.Path.Combine(Path, "summary.json"), json + "\n");
    }

    public void WriteMarkdown(string markdown) => File.WriteAllText(System.IO.Path.Combine(Path, "summary.md"), markdown);

    public void Dispose() => _metrics.Dispose();
}

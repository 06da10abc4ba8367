using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Output;

/// <summary>
/// Writes a run directory: config.hocon, metrics.csv (flushed per row, so a crash keeps what was measured),
/// summary.json, summary.md and plots. metrics.csv holds no wall-clock values, so identical runs give identical files.
/// Final files are written to a temporary name and renamed, so a reader never sees a half-written one; non-finite
/// numbers are <c>nan</c>/<c>inf</c> in CSV and <c>null</c> in JSON.
/// </summary>
public sealed class RunDirectory : IRunSink, IDisposable
{
    public const string MetricsHeader = "step,test_loss,test_accuracy,updates_applied,virtual_time_s,messages_sent,bytes_sent,bytes_uplink";

    /// <summary>What a run writes; with --force these are removed before a run reuses a directory.</summary>
    public static readonly string[] Outputs = ["config.hocon", "metrics.csv", "summary.json", "summary.md", "model.safetensors"];

    private readonly StreamWriter _metrics;
    private readonly IReadOnlyList<MetricColumn> _columns;
    private readonly List<MetricsRow> _rows = [];

    public RunDirectory(string path, IReadOnlyList<MetricColumn>? columns = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        _columns = columns ?? [];
        Create(Path);
        _metrics = new StreamWriter(System.IO.Path.Combine(Path, "metrics.csv"), false, new UTF8Encoding(false)) { NewLine = "\n" };
        _metrics.WriteLine(MetricsHeader + string.Concat(_columns.Select(c => "," + c.Name)));
        _metrics.Flush();
    }

    public string Path { get; }
    public IReadOnlyList<MetricsRow> Rows => _rows;

    public static string DefaultPath(string name, DateTime now) =>
        System.IO.Path.Combine("runs", $"{now:yyyyMMdd-HHmmss}-{Sanitize(name)}");

    private static string Sanitize(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());

    /// <summary>
    /// Checked before anything is loaded: the directory can be created, and it holds no earlier run (a second run into the
    /// same directory would leave stale files next to new ones). With <paramref name="force"/> the earlier run's files are removed.
    /// </summary>
    public static void Claim(string path, bool force)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
        {
            if (!force)
                throw new ExperimentConfigException($"--out {path}: the directory is not empty (it holds an earlier run); choose another directory or pass --force to replace it");
            foreach (var f in Directory.EnumerateFiles(full))
                if (Outputs.Contains(System.IO.Path.GetFileName(f)) || f.EndsWith(".png", StringComparison.Ordinal) || f.EndsWith(".tmp", StringComparison.Ordinal))
                    File.Delete(f);
        }
        Create(full);
    }

    private static void Create(string full)
    {
        try
        {
            Directory.CreateDirectory(full);
            using (File.Create(System.IO.Path.Combine(full, ".write-test"), 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ExperimentConfigException($"--out {full}: the run directory cannot be created or written ({e.Message})");
        }
    }

    public void WriteConfig(string hocon) => WriteAtomic("config.hocon", hocon);

    /// <summary>samples-STEP.png: an image grid, or a scatter of 2-D samples over the target's modes.</summary>
    public void WriteSamples(long step, Learning.Training.SampleSet samples) =>
        Plots.Samples(System.IO.Path.Combine(Path, $"samples-{step.ToString("D6", CultureInfo.InvariantCulture)}.png"), $"samples at step {step}", samples);

    public void Append(MetricsRow r)
    {
        ArgumentNullException.ThrowIfNull(r);
        _rows.Add(r);
        var c = r.Counters;
        var cells = new List<string>(8 + _columns.Count)
        {
            c.Step.ToString(CultureInfo.InvariantCulture), Csv(r.TestLoss), Csv(r.TestAccuracy),
            c.UpdatesApplied.ToString(CultureInfo.InvariantCulture), Csv(c.VirtualTimeS),
            c.MessagesSent.ToString(CultureInfo.InvariantCulture), c.BytesSent.ToString(CultureInfo.InvariantCulture),
            c.BytesUplink.ToString(CultureInfo.InvariantCulture),
        };
        for (int i = 0; i < _columns.Count; i++) cells.Add(Csv(i < r.Extras.Count ? r.Extras[i] : double.NaN, _columns[i].Format));
        _metrics.WriteLine(string.Join(',', cells));
        _metrics.Flush();
    }

    /// <summary>A number for a CSV cell: non-finite values as nan, inf and -inf.</summary>
    public static string Csv(double v, string format = MetricColumn.Fixed) =>
        double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : v.ToString(format, CultureInfo.InvariantCulture);

    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>summary.json: non-finite numbers become null (a diverged run says so in `diverged`).</summary>
    public void WriteSummary(JsonObject summary) => WriteAtomic("summary.json", ToJson(summary) + "\n");

    /// <summary>The JSON text of <paramref name="node"/> with every non-finite number written as null.</summary>
    public static string ToJson(JsonNode? node, bool indented = true) => FiniteOrNull(node)?.ToJsonString(indented ? JsonOptions : CompactJson) ?? "null";

    private static readonly JsonSerializerOptions CompactJson = new() { WriteIndented = false };

    /// <summary>A copy of <paramref name="node"/> in which NaN and infinities are null.</summary>
    public static JsonNode? FiniteOrNull(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key, FiniteOrNull(kv.Value)))),
        JsonArray a => new JsonArray([.. a.Select(FiniteOrNull)]),
        JsonValue v when v.TryGetValue<double>(out var d) => double.IsFinite(d) ? JsonValue.Create(d) : null,
        JsonValue v when v.TryGetValue<float>(out var f) => float.IsFinite(f) ? JsonValue.Create(f) : null,
        _ => node.DeepClone(),
    };

    public void WriteMarkdown(string markdown) => WriteAtomic("summary.md", markdown);

    /// <summary>Writes a file under a temporary name and renames it over the old one: readers see the old or the new file, whole.</summary>
    public void WriteFile(string name, string content) => WriteAtomic(name, content);

    public void WriteAtomic(string name, string content) => WriteFileAtomic(System.IO.Path.Combine(Path, name), content);

    /// <summary>Writes <paramref name="path"/> through a temporary file and a rename.</summary>
    public static void WriteFileAtomic(string path, string content)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, content, new UTF8Encoding(false));
        File.Move(tmp, path, overwrite: true);
    }

    public void Dispose() => _metrics.Dispose();
}

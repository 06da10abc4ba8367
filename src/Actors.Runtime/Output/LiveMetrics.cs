using System.Globalization;

namespace Actors.Runtime.Output;

/// <summary>
/// Reads a run's metrics.csv while the run may still be writing it (dashboards, the chaos runner): shared read access, and
/// only whole lines, since the last one may be half written. A file that is missing or busy reads as no rows.
/// </summary>
public static class LiveMetrics
{
    /// <summary>The header and the complete data rows, split on commas.</summary>
    public static (string[] Header, List<string[]> Rows) Read(string path)
    {
        try
        {
            if (!File.Exists(path)) return ([], []);
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var r = new StreamReader(s);
            var lines = r.ReadToEnd().Split('\n');
            var complete = lines.Take(lines.Length - 1).Where(l => l.Length > 0).Select(l => l.TrimEnd('\r').Split(',')).ToList();
            return complete.Count == 0 ? ([], []) : (complete[0], complete.Skip(1).ToList());
        }
        catch (IOException)
        {
            return ([], []);
        }
    }

    /// <summary>The step of the last complete evaluation row, or null before the first.</summary>
    public static long? LastStep(string path) =>
        Read(path).Rows is [.., var last] && long.TryParse(last[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var step) ? step : null;
}

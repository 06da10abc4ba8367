using System.Globalization;
using System.Text;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Gossip;

/// <summary>
/// metrics.csv of a gossip run: the columns of <see cref="Output.RunDirectory.MetricsHeader"/>, then consensus_distance
/// and, when f* is known, suboptimality (both in full precision: they span many decades). Flushed per row, no wall-clock values.
/// </summary>
public sealed class GossipMetrics : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly bool _suboptimality;

    public GossipMetrics(string directory, bool suboptimality)
    {
        _suboptimality = suboptimality;
        Directory.CreateDirectory(directory);
        _writer = new StreamWriter(Path.Combine(directory, "metrics.csv"), false, new UTF8Encoding(false)) { NewLine = "\n" };
        _writer.WriteLine(Output.RunDirectory.MetricsHeader + ",consensus_distance" + (suboptimality ? ",suboptimality" : ""));
        _writer.Flush();
    }

    public void Append(GossipEvaluation r)
    {
        var c = r.Counters;
        var cells = new List<string>
        {
            I(c.Step), F(r.TestLoss), F(r.TestAccuracy), I(c.UpdatesApplied), F(c.VirtualTimeS), I(c.MessagesSent), I(c.BytesSent), I(c.BytesUplink),
            E(r.ConsensusDistance),
        };
        if (_suboptimality) cells.Add(E(r.Suboptimality ?? double.NaN));
        _writer.WriteLine(string.Join(',', cells));
        _writer.Flush();
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);

    private static string E(double v) => v.ToString("0.#########E+0", CultureInfo.InvariantCulture);

    public void Dispose() => _writer.Dispose();
}

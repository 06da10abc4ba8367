using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Runtime.Cluster;
using Actors.Runtime.Experiments;
using Actors.Runtime.Engine;

namespace Actors.Cli.Dashboard;

/// <summary>
/// The dashboard of a cluster (<c>actors up --dashboard</c>): the members with roles, status and reachability and the runs
/// (queued, running with their step, done), as the coordinator reports them, asked once a second (<see cref="ClusterWatcher"/>).
/// A member that is gone shows as unreachable, then disappears once the cluster removed it.
/// </summary>
public sealed class ClusterDashboardState : IDashboardSource
{
    private readonly string _seed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile ClusterProtocol.ClusterStatus? _last;
    private volatile string _problem = "waiting for the coordinator";
    private DateTime _at = DateTime.MinValue;

    private readonly Meter _meter = new(DashboardMeters.Name);

    public ClusterDashboardState(string seed)
    {
        _seed = seed;
        _loop = Task.Run(Poll);
        _meter.CreateObservableGauge("actors_cluster_members", () => _last is { } s
            ? [Count(s.Members.Count(m => m.Reachable), "reachable", "true"), Count(s.Members.Count(m => !m.Reachable), "reachable", "false")]
            : Array.Empty<Measurement<long>>(), description: "cluster members by reachability");
        _meter.CreateObservableGauge("actors_cluster_runs", () => _last is { } s
            ? new[] { "queued", "running", "completed", "failed" }.Select(state => Count(s.Runs.Count(r => r.State == state), "state", state)).ToArray()
            : Array.Empty<Measurement<long>>(), description: "runs by state");
    }

    private static Measurement<long> Count(long n, string tag, string value) => new(n, new KeyValuePair<string, object?>(tag, value));

    private async Task Poll()
    {
        await using var watcher = new ClusterWatcher(_seed);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                _last = await watcher.Query(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
                _at = DateTime.UtcNow;
                _problem = "";
            }
            catch (Exception e) when (e is UserInputException or RunFailedException)
            {
                _problem = e.Message;
            }
            try
            {
                await Task.Delay(1000, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public JsonObject Snapshot()
    {
        var members = new JsonArray();
        var runs = new JsonArray();
        if (_last is { } s)
        {
            foreach (var m in s.Members)
            {
                var roles = new JsonArray();
                foreach (var r in m.Roles) roles.Add(r);
                members.Add(new JsonObject { ["address"] = m.Address, ["roles"] = roles, ["status"] = m.Status, ["reachable"] = m.Reachable, ["updates_per_s"] = m.UpdatesPerSecond });
            }
            foreach (var r in s.Runs)
                runs.Add(new JsonObject { ["run"] = r.RunId, ["name"] = r.Name, ["state"] = r.State, ["step"] = r.Step, ["steps"] = r.Steps, ["outcome"] = r.Outcome });
        }
        return new JsonObject
        {
            ["name"] = $"cluster at {_seed}",
            ["cluster"] = true,
            ["members"] = members,
            ["runs"] = runs,
            ["updated"] = _at == DateTime.MinValue ? null : _at.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
            ["problem"] = _problem,
        };
    }

    public string MeterName => DashboardMeters.Name;

    public void Dispose()
    {
        _meter.Dispose();
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // the loop's own failure: nothing to keep
        }
        _stop.Dispose();
    }
}

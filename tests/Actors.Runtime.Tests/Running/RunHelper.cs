using System.Text.Json.Nodes;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.Running;

/// <summary>Runs a small synthetic experiment in-process into a fresh temporary run directory.</summary>
public static class RunHelper
{
    public static readonly string[] Small =
    [
        "data.dataset=synthetic", "data.synthetic.train=2000", "data.synthetic.test=500", "model.type=logreg",
        "workers.honest=10", "optimizer.lr=0.05", "experiment.eval-every=20",
    ];

    public static async Task<(string Dir, JsonObject Summary)> Run(params string[] overrides)
    {
        var spec = ExperimentKinds.Load(null, [.. Small, .. overrides]);
        var dir = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
        var result = await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), _ => { });
        return (dir, result.Summary);
    }

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Actors.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Actors.sln not found above the test binaries");
    }

    public static double D(this JsonObject s, string key) => double.Parse(s[key]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
}

using Actors.Runtime.Experiments;
using Akka.Configuration;

namespace Actors.Cli.Commands;

/// <summary>Rules of <c>run --cluster</c>.</summary>
internal static class ClusterMode
{
    /// <summary><c>--cluster</c> implies realtime; a file or override that says <c>experiment.mode = simulation</c> explicitly is bad input.</summary>
    public static void CheckNotSimulation(string file, IEnumerable<string> overrides)
    {
        string? mode = null;
        if (File.Exists(file))
        {
            try
            {
                var user = ConfigurationFactory.ParseString(File.ReadAllText(file));
                if (user.HasPath("experiment.mode")) mode = user.GetString("experiment.mode");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // not valid HOCON: ExperimentConfig.Load reports it with the file name
            }
        }
        foreach (var o in overrides)
        {
            var c = ExperimentConfig.ParseOverride(o);
            if (c.HasPath("experiment.mode")) mode = c.GetString("experiment.mode");
        }
        if (mode == "simulation")
            throw new ExperimentConfigException("experiment.mode = simulation cannot run with --cluster (a cluster runs on the wall clock: valid with --cluster: realtime, or leave experiment.mode unset)");
    }
}

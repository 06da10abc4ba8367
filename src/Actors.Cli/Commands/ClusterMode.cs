using Actors.Runtime.Experiments;

namespace Actors.Cli.Commands;

/// <summary>Rules of <c>run --cluster</c>.</summary>
internal static class ClusterMode
{
    /// <summary><c>--cluster</c> implies realtime; a file or override that says <c>experiment.mode = simulation</c> explicitly is bad input.</summary>
    public static void CheckNotSimulation(string file, IEnumerable<string> overrides)
    {
        if (ExperimentConfig.ExplicitMode(file, overrides) == "simulation")
            throw new ExperimentConfigException("experiment.mode = simulation cannot run with --cluster (a cluster runs on the wall clock: valid with --cluster: realtime, or leave experiment.mode unset)");
    }
}

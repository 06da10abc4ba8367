using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Gossip;
using Actors.Runtime.ParameterServer;
using Akka.Configuration;

namespace Actors.Runtime.Running;

/// <summary>The registry of experiment kinds: the only place that maps `experiment.kind` names to implementations.</summary>
public static class ExperimentKinds
{
    private static readonly IExperimentKind[] All =
    [
        new ParameterServerKind(),
        new GossipKind(),
        new Federated.FederatedKind(),
        new Game.GameKind(),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(k => k.Name)];

    public static IExperimentKind Get(string name) =>
        All.FirstOrDefault(k => k.Name == name)
        ?? throw new ExperimentConfigException($"experiment.kind = '{name}' is not valid (valid: {string.Join(", ", Names)})");

    /// <summary>The kind of <paramref name="spec"/>, after checking the spec against it.</summary>
    public static IExperimentKind Of(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var kind = Get(spec.Kind);
        kind.Validate(spec);
        return kind;
    }

    /// <summary>Parses and fully validates an experiment (the common sections, then its kind's).</summary>
    public static ExperimentSpec Parse(Config config)
    {
        var spec = ExperimentSpec.Parse(config);
        Of(spec);
        return spec;
    }

    /// <summary><see cref="ExperimentConfig.Load"/>, then <see cref="Parse(Config)"/>.</summary>
    public static ExperimentSpec Load(string? file, IEnumerable<string> overrides) => Parse(ExperimentConfig.Load(file, overrides));
}

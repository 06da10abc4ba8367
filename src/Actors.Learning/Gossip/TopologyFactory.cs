namespace Actors.Learning.Gossip;

/// <summary>The `topology { type, nodes, redraw-every, edge-probability, churn { leave-every, down-for, fraction } }` block.</summary>
public sealed record TopologySettings(string Type, int Nodes, int RedrawEvery = 1, double EdgeProbability = 0.5, ChurnSchedule? Churn = null);

/// <summary>The only place that maps `topology.type` names to topologies.</summary>
public static class TopologyFactory
{
    public static readonly string[] Types = ["complete", "ring", "torus", "star", "exponential", "one-peer-exponential", "random"];

    public static ITopology Create(TopologySettings settings, long seed)
    {
        if (settings.Nodes <= 0)
            throw new ArgumentException($"topology.nodes = {settings.Nodes} is invalid: need at least 1 node");
        ITopology topology = settings.Type switch
        {
            "complete" => StaticTopology.Complete(settings.Nodes),
            "ring" => StaticTopology.Ring(settings.Nodes),
            "torus" => StaticTopology.Torus(settings.Nodes),
            "star" => StaticTopology.Star(settings.Nodes),
            "exponential" => StaticTopology.Exponential(settings.Nodes),
            "one-peer-exponential" => new OnePeerExponentialTopology(settings.Nodes),
            "random" => CreateRandom(settings, seed),
            _ => throw new ArgumentException($"topology.type = '{settings.Type}' is unknown (valid: {string.Join(", ", Types)})"),
        };
        if (settings.Churn is null) return topology;
        try
        {
            return new ChurnTopology(topology, settings.Churn, seed);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"{e.Message.Split(Environment.NewLine)[0]} (got {e.ActualValue})", e);
        }
    }

    private static RandomTopology CreateRandom(TopologySettings s, long seed)
    {
        if (s.EdgeProbability is < 0 or > 1 || double.IsNaN(s.EdgeProbability))
            throw new ArgumentException($"topology.edge-probability = {s.EdgeProbability} is invalid: must be in [0, 1]");
        if (s.RedrawEvery <= 0)
            throw new ArgumentException($"topology.redraw-every = {s.RedrawEvery} is invalid: must be a positive number of steps");
        return new RandomTopology(s.Nodes, s.EdgeProbability, s.RedrawEvery, seed);
    }
}

using Actors.Learning.Compression;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>The only place that maps `gossip.algorithm` names to node implementations.</summary>
public static class GossipAlgorithms
{
    public static readonly string[] Names = ["dsgd", "choco", "powergossip", "lead"];

    /// <summary>Algorithms whose updates are per edge, so they also run as asynchronous pairwise gossip.</summary>
    public static bool SupportsPairwise(string algorithm) => algorithm is "dsgd" or "powergossip";

    /// <summary>CHOCO and LEAD take their compressor from `compression.*` (CHOCO a contractive one, LEAD an unbiased one).</summary>
    public static bool NeedsCompressor(string algorithm) => algorithm is "choco" or "lead";

    /// <summary>
    /// Node <paramref name="id"/>'s state, starting from <paramref name="initialModel"/> (copied). The node owns
    /// <paramref name="compressor"/> (one instance per node: QSGD keeps its own generator) and disposes it.
    /// </summary>
    public static GossipNode Create(GossipSettings settings, int id, torch.Tensor initialModel, ICompressor? compressor = null, ParameterLayout? layout = null)
    {
        if (settings.LearningRate < 0 || double.IsNaN(settings.LearningRate))
            throw new ArgumentException($"optimizer.lr = {settings.LearningRate} is invalid: must be >= 0");
        if (settings.Gamma <= 0 || double.IsNaN(settings.Gamma))
            throw new ArgumentException($"gossip.gamma = {settings.Gamma} is invalid: must be > 0");
        if (settings.ResyncEvery < 0)
            throw new ArgumentException($"gossip resync period {settings.ResyncEvery} is invalid: must be >= 0 (0 = on demand only)");
        if (NeedsCompressor(settings.Algorithm) && compressor is null)
            throw new ArgumentException($"gossip.algorithm = {settings.Algorithm} needs a compressor (compression.type; use an identity compressor for none)");
        return settings.Algorithm switch
        {
            "dsgd" => new DecentralizedSgd(id, initialModel, settings),
            "choco" => new ChocoSgd(id, initialModel, settings, compressor!, layout),
            "powergossip" => new PowerGossip(id, initialModel, settings, layout),
            "lead" => new Lead(id, initialModel, settings, compressor!, layout),
            _ => throw new ArgumentException($"gossip.algorithm = '{settings.Algorithm}' is unknown (valid: {string.Join(", ", Names)})"),
        };
    }
}

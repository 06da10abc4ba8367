using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>
/// CHOCO-SGD (Koloskova et al. 2019; ALGORITHMS.md section 6): x -= lr g; q = Q(x - x_hat_i); x_hat_i += q and every
/// neighbour's copy of it too; x += gamma sum_j w_ij (x_hat_j - x_hat_i) (= gamma (s_i - x_hat_i) as rows sum to 1).
/// Needs a contractive compressor (unscaled rand-k, top-k); gamma must be tuned per compressor and topology.
/// A neighbour without a usable copy this step counts as x_hat_j = x_hat_i (its weight stays on the node).
/// </summary>
public sealed class ChocoSgd(int id, torch.Tensor initialModel, GossipSettings settings, ICompressor compressor, ParameterLayout? layout = null)
    : ReplicatedCopyNode(id, initialModel, settings, compressor, layout)
{
    public override string Algorithm => "choco";

    protected override torch.Tensor LocalUpdate(long step, torch.Tensor gradient) => X.AddScaled_(gradient, -Settings.LearningRate);

    protected override torch.Tensor? Advance(torch.Tensor publicVector, torch.Tensor increment)
    {
        publicVector.add_(increment);
        return null;
    }

    protected override void Consensus(long step, MixingRow row, IReadOnlyDictionary<int, torch.Tensor?> fresh)
    {
        var pull = torch.zeros_like(X);
        foreach (var (_, w, copy) in UsableCopies(row)) pull.AddScaled_(copy.sub(PublicVector), w);
        X.AddScaled_(pull, Settings.Gamma);
    }
}

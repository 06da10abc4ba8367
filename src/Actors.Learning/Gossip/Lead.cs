using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>
/// LEAD (Liu et al., ICLR 2021), the primal-dual rule of ALGORITHMS.md section 7, per node i:
/// <code>
/// Y   = X - eta grad f_i(X) - eta D
/// Q   = C(Y - H);  Yhat = H + Q;  Yhat_w = sum_j w_ij Yhat_j;  H = (1 - a) H + a Yhat   (every copy of H too)
/// D   = D + gamma / (2 eta) (Yhat - Yhat_w)
/// X   = X - eta grad f_i(X) - eta D            (same gradient, new D)
/// </code>
/// Yhat_w is formed from the neighbours' copies of H plus their Q, which equals the paper's H_w + W Q (H_w kept
/// incrementally) when W is fixed, and stays right when the topology changes. Needs an unbiased compressor
/// (rand-k scaled by d/k, QSGD); a = 1 / (1 + omega), and an undirected topology. With exact gradients in float64 it
/// converges linearly to x*.
/// </summary>
public sealed class Lead : ReplicatedCopyNode
{
    private readonly torch.Tensor _dual;
    private torch.Tensor? _gradient;
    private torch.Tensor? _yhat;

    public Lead(int id, torch.Tensor initialModel, GossipSettings settings, ICompressor compressor, ParameterLayout? layout = null)
        : base(id, initialModel, settings, compressor, layout)
    {
        if (settings.LearningRate <= 0) throw new ArgumentException($"lead needs optimizer.lr (eta) > 0, got {settings.LearningRate}");
        double a = settings.AlphaOrDefault;
        if (a is <= 0 or > 1 || double.IsNaN(a)) throw new ArgumentException($"gossip.alpha = {a} is invalid for lead: must be in (0, 1]");
        _dual = torch.zeros_like(initialModel).DetachFromDisposeScope();
    }

    public override string Algorithm => "lead";

    /// <summary>The dual update needs a symmetric W: on the directed one-peer exponential graph LEAD diverges (measured).</summary>
    protected override bool NeedsSymmetricMixing => true;

    /// <summary>The dual variable D_i (sum over nodes stays 0).</summary>
    public torch.Tensor Dual => _dual;

    private double Eta => Settings.LearningRate;

    protected override torch.Tensor LocalUpdate(long step, torch.Tensor gradient)
    {
        _gradient?.Dispose();
        _gradient = gradient.to_type(X.dtype).detach().clone().DetachFromDisposeScope();
        return X.AddScaled(_gradient, -Eta).AddScaled_(_dual, -Eta);
    }

    protected override torch.Tensor? Advance(torch.Tensor publicVector, torch.Tensor increment)
    {
        double a = Settings.AlphaOrDefault;
        var yhat = publicVector.Plus(increment);
        publicVector.MulBy_(1 - a).AddScaled_(yhat, a);
        return yhat;
    }

    protected override void OnOwnAdvanced(long step, torch.Tensor? byProduct)
    {
        _yhat?.Dispose();
        _yhat = byProduct!.DetachFromDisposeScope();
    }

    protected override void Consensus(long step, MixingRow row, IReadOnlyDictionary<int, torch.Tensor?> fresh)
    {
        // Yhat_i - Yhat_w,i = sum_j w_ij (Yhat_i - Yhat_j) (rows sum to 1); a neighbour whose message is missing adds 0.
        var disagreement = torch.zeros_like(X);
        foreach (var (j, w) in row.InNeighbors)
            if (fresh.TryGetValue(j, out var yhatJ) && yhatJ is not null)
                disagreement.AddScaled_(_yhat!.sub(yhatJ), w);
        _dual.AddScaled_(disagreement, Settings.Gamma / (2 * Eta));
        X.AddScaled_(_gradient!, -Eta).AddScaled_(_dual, -Eta);
        _gradient!.Dispose();
        _gradient = null;
        _yhat!.Dispose();
        _yhat = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dual.Dispose();
            _gradient?.Dispose();
            _yhat?.Dispose();
        }
        base.Dispose(disposing);
    }
}

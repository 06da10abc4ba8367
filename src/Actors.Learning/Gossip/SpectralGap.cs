using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>
/// Spectral gap 1 - sigma_2 of a mixing matrix (sigma_2 = second largest singular value, which is |lambda_2|, the second
/// largest eigenvalue modulus, when W is symmetric). Ring of 8 with MH weights 1/3: 1 - (1/3 + 2/3 cos(pi/4)) = 0.195.
/// For a time-varying topology: 1 - sigma_2(W(P-1) ... W(0))^(1/P) over one period P, the per-step contraction.
/// </summary>
public static class SpectralGap
{
    public static double Of(MixingMatrix w)
    {
        if (w.Nodes == 1) return 1;
        using var scope = torch.NewDisposeScope();
        var m = torch.tensor(w.ToArray(), torch.float64).reshape(w.Nodes, w.Nodes);
        double[] s;
        if (w.IsSymmetric)
            s = torch.linalg.eigvalsh(m).abs().sort(descending: true).Values.ToHostArray<double>();
        else
            s = torch.linalg.svdvals(m).ToHostArray<double>();
        // sigma_2 at rounding level (an exact-averaging product such as one-peer exponential's) counts as 0.
        return s[1] < 1e-12 ? 1 : Math.Clamp(1 - s[1], 0, 1);
    }

    public static double Of(ITopology topology, long fromStep = 0)
    {
        var product = topology.At(fromStep);
        for (int t = 1; t < topology.Period; t++) product = MixingMatrix.Multiply(topology.At(fromStep + t), product);
        double gap = Of(product);
        return topology.Period == 1 ? gap : 1 - Math.Pow(1 - gap, 1.0 / topology.Period);
    }
}

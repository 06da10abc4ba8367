using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Conformal;

/// <summary>
/// Principal component projection fitted on the training images (centered, thin SVD in float64). SVD is
/// deterministic, so the features depend only on which examples were drawn (seeded by the caller).
/// </summary>
public static class PcaFeatures
{
    /// <summary>
    /// Flattens [N, ...] tensors to [N, F], centers with the training mean and projects both onto the top
    /// <paramref name="dims"/> right singular vectors of the centered training matrix (dims &lt;= 0: no projection).
    /// Returns row-major double arrays.
    /// </summary>
    public static (double[] Train, double[] Test, int Dimension) Project(torch.Tensor train, torch.Tensor test, int dims)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        using var scope = torch.NewDisposeScope();
        var xtr = train.reshape(train.shape[0], -1).to_type(torch.float64);
        var xte = test.reshape(test.shape[0], -1).to_type(torch.float64);
        if (xtr.shape[1] != xte.shape[1])
            throw new ArgumentException($"mismatched feature dimensions: train has {xtr.shape[1]} features, test {xte.shape[1]}");
        if (dims <= 0)
            return (xtr.contiguous().ToHostArray<double>(), xte.contiguous().ToHostArray<double>(), (int)xtr.shape[1]);
        long maxDims = Math.Min(xtr.shape[0], xtr.shape[1]);
        if (dims > maxDims)
            throw new ArgumentException($"pca:{dims} asks for more components than the {maxDims} that {xtr.shape[0]} examples of {xtr.shape[1]} features have");
        var mean = xtr.mean([0L], keepdim: true);
        var centered = xtr - mean;
        var (_, _, vh) = torch.linalg.svd(centered, fullMatrices: false);
        var components = vh.narrow(0, 0, dims).t();
        var ptr = centered.matmul(components).contiguous();
        var pte = (xte - mean).matmul(components).contiguous();
        return (ptr.ToHostArray<double>(), pte.ToHostArray<double>(), dims);
    }

    /// <summary>Parses "pca:D" (D components) or "raw"/"" (no projection).</summary>
    public static int ParseSpec(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec) || spec == "raw") return 0;
        if (spec.StartsWith("pca:", StringComparison.Ordinal) && int.TryParse(spec.AsSpan(4), out var d) && d > 0) return d;
        throw new ArgumentException($"--features '{spec}' is not valid (valid: pca:D with D >= 1, or raw)");
    }
}

using Actors.Learning.Util;
using Actors.Learning.Data;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Games;

/// <summary>
/// The Frechet distance between two sets of features, ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) (Heusel et al.
/// 2017), on the 256-d hidden layer of a fixed Fashion-MNIST MLP classifier that the project trains once and caches (this
/// is the same statistic as FID, on another network: name it for what it is, not "FID" of Inception).
/// </summary>
public sealed class FrechetDistance : IDisposable
{
    private readonly ModelFactory.Mlp _classifier;
    private readonly torch.Tensor _referenceMean;
    private readonly torch.Tensor _referenceCov;

    /// <summary>Trains (or loads from <paramref name="cacheFile"/>) the feature classifier, and takes the reference statistics of <paramref name="reference"/>.</summary>
    public FrechetDistance(Dataset train, torch.Tensor reference, string? cacheFile, long seed = 20261206)
    {
        ArgumentNullException.ThrowIfNull(train);
        _classifier = Training.InitialModel.Unseeded(() => (ModelFactory.Mlp)ModelFactory.Create("mlp", train.ItemShape, train.Classes));
        var parameters = cacheFile is not null && Load(cacheFile, FlatParameters.Count(_classifier)) is { } cached ? cached : Train(train, seed);
        using (parameters)
        {
            FlatParameters.Set(_classifier, parameters);
            if (cacheFile is not null && !File.Exists(cacheFile)) Save(cacheFile, parameters);
        }
        _classifier.eval();
        (_referenceMean, _referenceCov) = Statistics(Features(reference));
    }

    /// <summary>The hidden-layer features of images in the dataset's normalized space, [n, 256].</summary>
    public torch.Tensor Features(torch.Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var noGrad = torch.no_grad();
        return _classifier.Features(images);
    }

    /// <summary>The distance of <paramref name="images"/> to the reference set.</summary>
    public double Of(torch.Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var (mean, cov) = Statistics(Features(images));
        return Distance(mean, cov, _referenceMean, _referenceCov);
    }

    public static double Distance(torch.Tensor mu1, torch.Tensor s1, torch.Tensor mu2, torch.Tensor s2)
    {
        ArgumentNullException.ThrowIfNull(mu1);
        using var scope = torch.NewDisposeScope();
        double meanTerm = mu1.sub(mu2).square().sum().item<double>();
        // Tr (S1 S2)^(1/2) = Tr (S1^(1/2) S2 S1^(1/2))^(1/2), a symmetric PSD matrix: sum of the square roots of its eigenvalues.
        var (w1, v1) = torch.linalg.eigh(s1);
        using var zero = 0.0.ToScalar();
        using var two = 2.0.ToScalar();
        var root1 = v1.matmul(torch.diag(w1.clamp_min(zero).sqrt())).matmul(v1.T);
        var middle = root1.matmul(s2).matmul(root1);
        var eig = torch.linalg.eigvalsh(middle.Plus(middle.T).div(two)).clamp_min(zero).sqrt().sum().item<double>();
        return meanTerm + s1.trace().item<double>() + s2.trace().item<double>() - 2 * eig;
    }

    private static (torch.Tensor Mean, torch.Tensor Cov) Statistics(torch.Tensor features)
    {
        var f = features.to(torch.ScalarType.Float64);
        var mean = f.mean([0]);
        var centered = f.sub(mean);
        using var n = ((double)Math.Max(1, f.shape[0] - 1)).ToScalar();
        var cov = centered.T.matmul(centered).div(n);
        return (mean.DetachFromDisposeScope(), cov.DetachFromDisposeScope());
    }

    /// <summary>Two epochs of SGD with momentum on the training set (about 89% test accuracy), seeded.</summary>
    private torch.Tensor Train(Dataset train, long seed)
    {
        using var init = Training.InitialModel.Create("mlp", train.ItemShape, train.Classes, seed);
        FlatParameters.Set(_classifier, init);
        using var optimizer = torch.optim.SGD(_classifier.parameters(), 0.05, momentum: 0.9);
        var rng = new Random((int)(seed & 0x7fffffff));
        var order = Enumerable.Range(0, train.Count).ToArray();
        _classifier.train();
        for (int epoch = 0; epoch < 2; epoch++)
        {
            rng.Shuffle(order);
            for (int start = 0; start + 128 <= order.Length; start += 128)
            {
                using var scope = torch.NewDisposeScope();
                using var idx = torch.tensor(order.AsSpan(start, 128).ToArray().Select(i => (long)i).ToArray());
                var (x, y) = train.Rows(idx);
                optimizer.zero_grad();
                torch.nn.functional.cross_entropy(_classifier.forward(x), y).backward();
                optimizer.step();
            }
        }
        return FlatParameters.Get(_classifier);
    }

    private static torch.Tensor? Load(string file, long count)
    {
        try
        {
            var bytes = File.ReadAllBytes(file);
            if (bytes.Length != 4 * count) return null; // another model: retrain
            var values = new float[count];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            return torch.tensor(values);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void Save(string file, torch.Tensor parameters)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var values = parameters.ToHostArray<float>();
            var bytes = new byte[4 * values.Length];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            var temp = file + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, file, overwrite: true);
        }
        catch (IOException)
        {
            // no cache: trained again next time
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        _classifier.Dispose();
        _referenceMean.Dispose();
        _referenceCov.Dispose();
    }
}

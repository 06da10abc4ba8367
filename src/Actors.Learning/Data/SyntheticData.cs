using TorchSharp;

namespace Actors.Learning.Data;

/// <summary>Shape and difficulty of the generated classification problem (`data.synthetic.*`).</summary>
public sealed record SyntheticSpec(int Train = 6000, int Test = 1000, int Features = 784, int Classes = 10, double Separation = 1.0, double Noise = 1.0);

/// <summary>
/// A generated classification problem shaped like Fashion-MNIST features (so every model runs on it):
/// one Gaussian cluster per class around a random center. Deterministic in the seed.
/// </summary>
public static class SyntheticData
{
    public static DataBundle Generate(SyntheticSpec spec, long seed)
    {
        var gen = Util.TorchSetup.Generator((ulong)Util.Seeds.Derive(seed, "synthetic-data"));
        using var centers = torch.randn(spec.Classes, spec.Features, generator: gen).mul_(spec.Separation);
        Dataset Make(int count, string name)
        {
            var labels = torch.randint(0, spec.Classes, count, dtype: torch.int64, generator: gen);
            var x = centers.index_select(0, labels).add_(torch.randn(count, spec.Features, generator: gen).mul_(spec.Noise));
            if (spec.Features == 784) x = x.reshape(count, 1, 28, 28);
            return new Dataset(x, labels, spec.Classes, name);
        }
        var train = Make(spec.Train, "synthetic/train");
        var test = Make(spec.Test, "synthetic/test");
        return new DataBundle(train, test, "synthetic", true);
    }
}

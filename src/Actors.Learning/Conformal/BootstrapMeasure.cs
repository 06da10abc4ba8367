using Actors.Learning.Util;

namespace Actors.Learning.Conformal;

/// <summary>
/// Bootstrap (bagging) nonconformity with out-of-bag scores. A pool of B bootstrap samples is drawn over the slots of
/// the bag (seeded, so it depends only on the bag size and the seed); each sample trains one base model (the linear
/// LS-SVM of <see cref="Ridge"/>, rho = 1, on the sample with multiplicities). Example i scores
/// alpha_i = mean over the models whose sample does not contain slot i of -f_{y_i}(x_i); 0 if every sample contains it.
/// In full CP the test example takes the last slot.
/// </summary>
public sealed class BootstrapMeasure(int models = BootstrapMeasure.DefaultModels, double rho = LsSvmMeasure.DefaultRho, long seed = 1) : INonconformityMeasure
{
    public const int DefaultModels = 30;

    public int Models { get; } = models >= 1 ? models : throw new ArgumentOutOfRangeException(nameof(models), models, "need at least one bootstrap model");
    public double Rho { get; } = rho > 0 ? rho : throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be positive");
    public long Seed { get; } = seed;
    public string Name => "bootstrap";

    /// <summary>B bootstrap samples of size <paramref name="slots"/> as multiplicities [B, slots]; a pure function of (slots, B, seed).</summary>
    public int[] DrawPool(int slots)
    {
        var rng = Seeds.Random(Seed, "bootstrap-pool", slots);
        var counts = new int[Models * slots];
        for (int b = 0; b < Models; b++)
            for (int t = 0; t < slots; t++) counts[b * slots + rng.Next(slots)]++;
        return counts;
    }

    public void Validate(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.RequireClassSizes(1, "the bootstrap measure");
        if (training.Classes < 2) throw new ArgumentException("the bootstrap measure needs at least two labels");
    }

    /// <summary>All B models trained on bootstrap samples of the bag; a new example is out of bag for every one.</summary>
    public IFittedMeasure Fit(LabelledData bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        var pool = DrawPool(bag.Count);
        var trained = new double[Models][];
        for (int b = 0; b < Models; b++) trained[b] = Ridge.Train(bag, pool.AsSpan(b * bag.Count, bag.Count), -1, Rho);
        return new Fitted(trained, bag.Dimension);
    }

    /// <summary>From scratch: for each i, retrain every model whose sample leaves slot i out, then average their scores.</summary>
    public double[] LeaveOneOutScores(LabelledData bag)
    {
        ArgumentNullException.ThrowIfNull(bag);
        int slots = bag.Count;
        var pool = DrawPool(slots);
        var scores = new double[slots];
        for (int i = 0; i < slots; i++)
        {
            double sum = 0;
            int count = 0;
            for (int b = 0; b < Models; b++)
            {
                var weights = pool.AsSpan(b * slots, slots);
                if (weights[i] != 0) continue;
                var model = Ridge.Train(bag, weights, -1, Rho, bag.Labels[i]);
                sum += -Ridge.Decision(model, bag.Labels[i], bag.Row(i));
                count++;
            }
            scores[i] = count > 0 ? sum / count : 0;
        }
        return scores;
    }

    private sealed class Fitted(double[][] trained, int dimension) : IFittedMeasure
    {
        public double Score(ReadOnlySpan<double> x, int y)
        {
            if (x.Length != dimension)
                throw new ArgumentException($"mismatched feature dimensions: test point has {x.Length} features, the training bag has {dimension}");
            double sum = 0;
            foreach (var m in trained) sum += -Ridge.Decision(m, y, x);
            return sum / trained.Length;
        }
    }
}

using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace Actors.Learning.Games;

/// <summary>
/// `game.type = mixture`: a GAN on a 2-D Gaussian mixture, 8 modes on a ring of radius 2 (std 0.02) or a 5x5 grid with
/// spacing 2 (std 0.05), the standard mode-collapse benchmark. MLP generator (noise 2 -> 128 -> 128 -> 2) and
/// discriminator (2 -> 128 -> 128 -> 1), non-saturating losses. Reported on 2,000 samples from fixed noise: the modes
/// covered (at least 1% of the samples within 3 std of the mode) and the fraction of high-quality samples (within 3 std of
/// some mode). One pair of modules serves every worker of the process (parameters copied in per gradient, under a lock).
/// </summary>
public sealed class MixtureGame : IGame
{
    public const int NoiseDim = 2;
    public const int EvaluationSamples = 2000;

    private readonly TorchSharp.Modules.Sequential _generator;
    private readonly TorchSharp.Modules.Sequential _discriminator;
    private readonly torch.Tensor _modes; // [modes, 2]
    private readonly double _std;
    private readonly torch.Tensor _evaluationNoise;
    private readonly long _generatorSize;
    private readonly Lock _gate = new();

    public MixtureGame(string shape, long seed)
    {
        (_modes, _std) = shape switch
        {
            "ring" => (torch.stack(Enumerable.Range(0, 8).Select(k => torch.tensor(new[] { 2 * (float)Math.Cos(2 * Math.PI * k / 8), 2 * (float)Math.Sin(2 * Math.PI * k / 8) })).ToArray()), 0.02),
            "grid" => (torch.tensor([.. from i in Enumerable.Range(-2, 5) from j in Enumerable.Range(-2, 5) from c in new[] { 2f * i, 2f * j } select c]).reshape(25, 2), 0.05),
            _ => throw new ArgumentException($"game.mixture = '{shape}' is not valid (valid: ring, grid)", nameof(shape)),
        };
        _modes = _modes.DetachFromDisposeScope();
        (_generator, _discriminator) = Training.InitialModel.Unseeded(Players); // its values are always overwritten
        var layout = new List<(string, long[], long, long)>();
        long offset = 0;
        foreach (var (prefix, module) in new (string, Module)[] { ("generator", _generator), ("discriminator", _discriminator) })
            foreach (var (name, p) in module.named_parameters())
            {
                layout.Add(($"{prefix}.{name}", p.shape, offset, p.numel()));
                offset += p.numel();
            }
        Layout = new ParameterLayout(layout);
        _generatorSize = FlatParameters.Count(_generator);
        using var g = Util.TorchSetup.Generator((ulong)Util.Seeds.Derive(seed, "mixture-evaluation"));
        _evaluationNoise = torch.randn(EvaluationSamples, NoiseDim, generator: g).DetachFromDisposeScope();
    }

    public ParameterLayout Layout { get; }

    private static (TorchSharp.Modules.Sequential Generator, TorchSharp.Modules.Sequential Discriminator) Players() =>
        (Sequential(Linear(NoiseDim, 128), ReLU(), Linear(128, 128), ReLU(), Linear(128, 2)),
         Sequential(Linear(2, 128), ReLU(), Linear(128, 128), ReLU(), Linear(128, 1)));

    public IReadOnlyList<string> FigureNames => ["modes_covered", "high_quality_fraction"];

    public int Modes => (int)_modes.shape[0];

    public torch.Tensor Initial(long seed)
    {
        return Training.InitialModel.Seeded(seed, () =>
        {
            using var scope = torch.NewDisposeScope();
            var (g, d) = Players();
            using (g)
            using (d)
                return torch.cat([FlatParameters.Get(g), FlatParameters.Get(d)]).MoveToOuterDisposeScope();
        });
    }

    /// <summary>Real samples: a mode drawn uniformly, plus N(0, std^2).</summary>
    public torch.Tensor Sample(int n, torch.Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var which = torch.randint(0, Modes, [n], generator: generator);
        return _modes.index_select(0, which).Plus(torch.randn(n, 2, generator: generator).MulBy_(_std)).MoveToOuterDisposeScope();
    }

    public (torch.Tensor Field, double Loss) Field(torch.Tensor z, torch.Generator generator, int batch)
    {
        ArgumentNullException.ThrowIfNull(z);
        batch = batch <= 0 ? 64 : batch;
        lock (_gate)
        {
            using var scope = torch.NewDisposeScope();
            FlatParameters.Set(_generator, z.narrow(0, 0, _generatorSize));
            FlatParameters.Set(_discriminator, z.narrow(0, _generatorSize, z.numel() - _generatorSize));
            var real = Sample(batch, generator);
            var noise = torch.randn(batch, NoiseDim, generator: generator);
            var ones = torch.ones(batch, 1);
            var zeros = torch.zeros(batch, 1);

            // Discriminator: real -> 1, fake -> 0, on a detached fake.
            _generator.zero_grad();
            _discriminator.zero_grad();
            var fake = _generator.forward(noise);
            var dLoss = functional.binary_cross_entropy_with_logits(_discriminator.forward(real), ones)
                        + functional.binary_cross_entropy_with_logits(_discriminator.forward(fake.detach()), zeros);
            dLoss.backward();
            var dGrad = FlatParameters.Gradient(_discriminator);

            // Generator: non-saturating, fake -> 1; its gradient flows through the discriminator, whose gradient is dropped.
            _generator.zero_grad();
            _discriminator.zero_grad();
            var gLoss = functional.binary_cross_entropy_with_logits(_discriminator.forward(fake), ones);
            gLoss.backward();
            var gGrad = FlatParameters.Gradient(_generator);
            return (torch.cat([gGrad, dGrad]).MoveToOuterDisposeScope(), gLoss.item<float>());
        }
    }

    public GameScore Evaluate(torch.Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        lock (_gate)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            FlatParameters.Set(_generator, z.narrow(0, 0, _generatorSize));
            FlatParameters.Set(_discriminator, z.narrow(0, _generatorSize, z.numel() - _generatorSize));
            var samples = _generator.forward(_evaluationNoise);
            var loss = functional.binary_cross_entropy_with_logits(_discriminator.forward(samples), torch.ones(EvaluationSamples, 1)).item<float>();
            var (distance, nearest) = torch.cdist(samples, _modes).min(1);
            using var radius = (3 * _std).ToScalar();
            var good = distance.le(radius);
            double quality = good.to(torch.ScalarType.Float32).mean().item<float>();
            var perMode = torch.bincount(nearest.masked_select(good), minlength: Modes);
            using var enough = ((long)(EvaluationSamples / 100)).ToScalar();
            double covered = perMode.ge(enough).sum().item<long>();
            var shown = samples.narrow(0, 0, 500).ToHostArray<float>();
            return new GameScore(loss, quality, [covered, quality], new Training.SampleSet(false, 500, 0, 0, shown, _modes.ToHostArray<float>()));
        }
    }

    public void Dispose()
    {
        _generator.Dispose();
        _discriminator.Dispose();
        _modes.Dispose();
        _evaluationNoise.Dispose();
    }
}

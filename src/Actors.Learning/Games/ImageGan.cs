using Actors.Learning.Util;
using Actors.Learning.Data;
using Actors.Learning.Models;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace Actors.Learning.Games;

/// <summary>
/// `game.type = gan`: a CPU-sized GAN on Fashion-MNIST (or MNIST). Generator: noise 64 -> 256 (leaky ReLU) -> 784 pixels
/// in [0, 1] (sigmoid), normalized like the real images; discriminator: 784 -> 256 (leaky ReLU) -> 1; non-saturating
/// losses. Each worker draws real images from its own shard. Reported on 2,000 samples from fixed noise: the Frechet
/// distance to 2,000 test images on the features of a fixed classifier (<see cref="FrechetDistance"/>).
/// </summary>
public sealed class ImageGan : IGame
{
    public const int NoiseDim = 64;
    public const int EvaluationSamples = 2000;

    private readonly TorchSharp.Modules.Sequential _generator;
    private readonly TorchSharp.Modules.Sequential _discriminator;
    private readonly Dataset _train;
    private readonly float _mean, _std;
    private readonly long _generatorSize;
    private readonly torch.Tensor _evaluationNoise;
    private readonly FrechetDistance _frechet;
    private readonly Lock _gate = new();

    public ImageGan(DataBundle data, long seed, string? classifierCache)
    {
        ArgumentNullException.ThrowIfNull(data);
        _train = data.Train;
        (_mean, _std) = data.Train.PixelNormalization ?? throw new ArgumentException("game.type = gan needs an image dataset (fashion-mnist or mnist)");
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
        using var g = Util.TorchSetup.Generator((ulong)Util.Seeds.Derive(seed, "gan-evaluation"));
        _evaluationNoise = torch.randn(EvaluationSamples, NoiseDim, generator: g).DetachFromDisposeScope();
        using var reference = torch.arange(Math.Min(EvaluationSamples, data.Test.Count));
        var (images, _) = data.Test.Rows(reference);
        using (images) _frechet = new FrechetDistance(data.Train, images, classifierCache);
    }

    public ParameterLayout Layout { get; }

    public IReadOnlyList<string> FigureNames => ["frechet_distance"];

    private static (TorchSharp.Modules.Sequential, TorchSharp.Modules.Sequential) Players() =>
        (Sequential(Linear(NoiseDim, 256), new StableLeakyReLU(0.2), Linear(256, 784), Sigmoid()),
         Sequential(Linear(784, 256), new StableLeakyReLU(0.2), Linear(256, 1)));

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

    /// <summary>Generated images in the real images' normalized space, [n, 784].</summary>
    private torch.Tensor Generate(torch.Tensor noise)
    {
        using var mean = _mean.ToScalar();
        using var std = _std.ToScalar();
        return _generator.forward(noise).sub(mean).div(std);
    }

    private void Load(torch.Tensor z)
    {
        FlatParameters.Set(_generator, z.narrow(0, 0, _generatorSize));
        FlatParameters.Set(_discriminator, z.narrow(0, _generatorSize, z.numel() - _generatorSize));
    }

    public (torch.Tensor Field, double Loss) Field(torch.Tensor z, torch.Generator generator, int batch)
    {
        ArgumentNullException.ThrowIfNull(z);
        batch = batch <= 0 ? 64 : batch;
        lock (_gate)
        {
            using var scope = torch.NewDisposeScope();
            Load(z);
            var rows = torch.randint(0, _train.Count, [batch], generator: generator);
            var (real, _) = _train.Rows(rows);
            real = real.reshape(batch, -1);
            var noise = torch.randn(batch, NoiseDim, generator: generator);
            var ones = torch.ones(batch, 1);
            var zeros = torch.zeros(batch, 1);
            _generator.zero_grad();
            _discriminator.zero_grad();
            var fake = Generate(noise);
            var dLoss = functional.binary_cross_entropy_with_logits(_discriminator.forward(real), ones)
                        + functional.binary_cross_entropy_with_logits(_discriminator.forward(fake.detach()), zeros);
            dLoss.backward();
            var dGrad = FlatParameters.Gradient(_discriminator);
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
            Load(z);
            var samples = Generate(_evaluationNoise);
            double loss = functional.binary_cross_entropy_with_logits(_discriminator.forward(samples), torch.ones(EvaluationSamples, 1)).item<float>();
            double distance = _frechet.Of(samples);
            var pixels = _generator.forward(_evaluationNoise.narrow(0, 0, 64)).ToHostArray<float>();
            return new GameScore(loss, double.NaN, [distance], new Training.SampleSet(true, 64, 28, 28, pixels));
        }
    }

    public void Dispose()
    {
        _generator.Dispose();
        _discriminator.Dispose();
        _evaluationNoise.Dispose();
        _frechet.Dispose();
    }
}

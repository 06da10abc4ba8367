using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>
/// A module to compute gradients with, shared by many trainers: a worker's state is its momentum, its shard and its
/// sampler, not a model of its own (with 20,000 workers a module each was most of the memory). The parameters are
/// copied in for each gradient, so sharing changes no result; a lock keeps it correct if trainers run on several threads.
/// </summary>
public sealed class GradientModel(ModelArchitecture modelType, long[] itemShape, int classes) : IDisposable
{
    // Built under InitialModel's lock: module initializers draw from torch's global generator, which a seeded build of
    // another run in the same process (a sweep) may be using.
    private readonly torch.nn.Module<torch.Tensor, torch.Tensor> _model = InitialModel.Unseeded(() => ModelFactory.Create(modelType, itemShape, classes));
    private readonly Lock _gate = new();
    private bool? _drawsRandom;

    /// <summary>The module draws random numbers in training (dropout): its forward pass needs a seeded generator.</summary>
    private bool DrawsRandom => _drawsRandom ??= _model.modules().Any(m => m is TorchSharp.Modules.Dropout);

    public long ParameterCount => FlatParameters.Count(_model);

    /// <summary>
    /// Loss and flat gradient of the model at <paramref name="parameters"/> on (x, y); the gradient is in the caller's scope.
    /// A model with dropout draws its masks from torch's global generator seeded with <paramref name="randomSeed"/> (callers
    /// derive it from their batch and step), so the gradient does not depend on which worker computed first.
    /// </summary>
    public (torch.Tensor Gradient, double Loss) Gradient(torch.Tensor parameters, torch.Tensor x, torch.Tensor y, long randomSeed = 0)
    {
        lock (_gate)
        {
            FlatParameters.Set(_model, parameters);
            _model.train();
            _model.zero_grad();
            return DrawsRandom ? InitialModel.WithGlobalGenerator(randomSeed, Step) : Step();
        }

        (torch.Tensor, double) Step()
        {
            var loss = torch.nn.functional.cross_entropy(_model.forward(x), y);
            loss.backward();
            return (FlatParameters.Gradient(_model), loss.item<float>());
        }
    }

    /// <summary>A seed for <see cref="Gradient"/> from a batch's example indices and the caller's step (FNV-1a: the same in every process).</summary>
    public static long RandomSeed(ReadOnlySpan<long> batch, long step)
    {
        ulong h = 14695981039346656037UL;
        foreach (var i in batch) h = (h ^ (ulong)i) * 1099511628211UL;
        h = (h ^ (ulong)step) * 1099511628211UL;
        return (long)(h >> 1);
    }

    public void Dispose() => _model.Dispose();
}

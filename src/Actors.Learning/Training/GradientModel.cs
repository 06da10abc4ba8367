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

    public long ParameterCount => FlatParameters.Count(_model);

    /// <summary>Loss and flat gradient of the model at <paramref name="parameters"/> on (x, y); the gradient is in the caller's scope.</summary>
    public (torch.Tensor Gradient, double Loss) Gradient(torch.Tensor parameters, torch.Tensor x, torch.Tensor y)
    {
        lock (_gate)
        {
            FlatParameters.Set(_model, parameters);
            _model.train();
            _model.zero_grad();
            var loss = torch.nn.functional.cross_entropy(_model.forward(x), y);
            loss.backward();
            return (FlatParameters.Gradient(_model), loss.item<float>());
        }
    }

    public void Dispose() => _model.Dispose();
}

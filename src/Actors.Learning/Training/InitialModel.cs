using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>The initial flat parameter vector of a model, a pure function of the seed.</summary>
public static class InitialModel
{
    private static readonly Lock Gate = new();

    public static torch.Tensor Create(string modelType, long[] itemShape, int classes, long seed)
    {
        // Module initializers draw from torch's global generator: seed it and build under a lock.
        lock (Gate)
        {
            torch.random.manual_seed(Util.Seeds.DeriveInt(seed, "initial-model"));
            using var model = ModelFactory.Create(modelType, itemShape, classes);
            return FlatParameters.Get(model);
        }
    }
}

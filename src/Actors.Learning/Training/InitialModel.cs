using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>The initial flat parameter vector of a model, a pure function of the seed.</summary>
public static class InitialModel
{
    private static readonly Lock Gate = new();

    public static torch.Tensor Create(ModelArchitecture modelType, long[] itemShape, int classes, long seed) =>
        Seeded(seed, () =>
        {
            using var model = ModelFactory.Create(modelType, itemShape, classes);
            return FlatParameters.Get(model);
        });

    /// <summary>
    /// Builds under the one process-wide lock with torch's global generator seeded from <paramref name="seed"/>: module
    /// initializers draw from that generator, so two runs of a sweep building models at once would otherwise interleave
    /// their draws and neither would be a function of its seed.
    /// </summary>
    public static T Seeded<T>(long seed, Func<T> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        lock (Gate)
        {
            torch.random.manual_seed(Util.Seeds.DeriveInt(seed, "initial-model"));
            return build();
        }
    }

    /// <summary>Builds modules whose initial values do not matter (they are overwritten) without disturbing a seeded build on another thread.</summary>
    public static T Unseeded<T>(Func<T> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        lock (Gate) return build();
    }
}

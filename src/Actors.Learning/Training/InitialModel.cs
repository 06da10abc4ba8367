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

    /// <summary>
    /// Runs <paramref name="body"/> with torch's global generator seeded from <paramref name="seed"/>, under the same lock:
    /// a forward pass that draws from it (dropout) is then a function of the seed, whichever worker or run gets there first.
    /// </summary>
    public static T WithGlobalGenerator<T>(long seed, Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        lock (Gate)
        {
            torch.random.manual_seed(seed);
            if (!Util.TorchSetup.OnCpu) torch.cuda.manual_seed_all(seed);
            return body();
        }
    }

    /// <summary>Builds modules whose initial values do not matter (they are overwritten) without disturbing a seeded build on another thread.</summary>
    public static T Unseeded<T>(Func<T> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        lock (Gate) return build();
    }
}

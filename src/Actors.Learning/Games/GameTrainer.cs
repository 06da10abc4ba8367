using Actors.Learning.Optim;
using Actors.Learning.Training;
using TorchSharp;

namespace Actors.Learning.Games;

/// <summary>A game's worker: both players' stochastic gradients on its own minibatches (seeded per worker), with optional worker momentum.</summary>
public sealed class GameTrainer(IGame game, int batch, double momentum, ulong seed) : ILocalTrainer
{
    private readonly torch.Generator _generator = Util.TorchSetup.Generator(seed);
    private readonly WorkerMomentum _momentum = new(momentum);

    public long ParameterCount => game.Layout.Size;

    public (torch.Tensor Gradient, double Loss) Gradient(torch.Tensor parameters) => game.Field(parameters, _generator, batch);

    public torch.Tensor ComputeUpdate(torch.Tensor parameters)
    {
        var (field, _) = Gradient(parameters);
        if (_momentum.Beta == 0) return field;
        using (field) return _momentum.Step(field);
    }

    public void Dispose()
    {
        _generator.Dispose();
        _momentum.Dispose();
    }
}

/// <summary>The evaluator of a game run: the game's own figures.</summary>
public sealed class GameEvaluator(IGame game) : IModelEvaluator
{
    public ModelScore Score(torch.Tensor parameters)
    {
        var s = game.Evaluate(parameters);
        return new ModelScore(s.Loss, s.Quality, s.Figures, s.Samples);
    }

    public void Dispose()
    {
    }
}

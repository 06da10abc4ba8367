using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>
/// What a worker computes on a model version: the vector it sends. A classifier's worker (<see cref="LocalTrainer"/>) sends
/// its minibatch gradient with worker momentum; a game's worker sends both players' gradients (<c>Games.GameTrainer</c>).
/// The actors only know this interface.
/// </summary>
public interface ILocalTrainer : IDisposable
{
    /// <summary>Size of the vectors it computes.</summary>
    long ParameterCount { get; }

    /// <summary>The raw stochastic gradient at <paramref name="parameters"/> (what bit-flip and label-flip attackers start from) and its loss.</summary>
    (torch.Tensor Gradient, double Loss) Gradient(torch.Tensor parameters);

    /// <summary>The vector this worker sends for <paramref name="parameters"/> (caller owns it).</summary>
    torch.Tensor ComputeUpdate(torch.Tensor parameters);
}

/// <summary>What an evaluation of a model measured: the test loss and accuracy, and the kind's extra figures in column order.</summary>
public sealed record ModelScore(double Loss, double Accuracy, IReadOnlyList<double> Extras);

/// <summary>Scores a model snapshot off the training path (the evaluator actor's work).</summary>
public interface IModelEvaluator : IDisposable
{
    ModelScore Score(torch.Tensor parameters);
}

using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>What an evaluation of a model measured: the test loss and accuracy, and the kind's extra figures in column order.</summary>
public sealed record ModelScore(double Loss, double Accuracy, IReadOnlyList<double> Extras);

/// <summary>Scores a model snapshot off the training path (the evaluator actor's work).</summary>
public interface IModelEvaluator : IDisposable
{
    ModelScore Score(torch.Tensor parameters);
}

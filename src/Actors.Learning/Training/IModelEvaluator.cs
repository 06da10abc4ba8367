using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>What an evaluation of a model measured: the test loss and accuracy, the kind's extra figures in column order, and samples to look at.</summary>
public sealed record ModelScore(double Loss, double Accuracy, IReadOnlyList<double> Extras, SampleSet? Samples = null);

/// <summary>
/// What a generative model produced at an evaluation, for a picture: <c>Count</c> grayscale images of Height x Width pixels
/// in [0, 1] (row-major), or <c>Count</c> 2-D points with the target's modes in <c>Reference</c> (x, y pairs).
/// </summary>
public sealed record SampleSet(bool Images, int Count, int Height, int Width, float[] Values, float[]? Reference = null);

/// <summary>Scores a model snapshot off the training path (the evaluator actor's work).</summary>
public interface IModelEvaluator : IDisposable
{
    ModelScore Score(torch.Tensor parameters);
}

using Actors.Learning.Data;
using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>Test loss and accuracy of a flat parameter vector on a held-out set.</summary>
public sealed class ModelEvaluator(Dataset test, ModelArchitecture modelType, int batchSize = 2000) : IModelEvaluator
{
    private readonly torch.nn.Module<torch.Tensor, torch.Tensor> _model = InitialModel.Unseeded(() => ModelFactory.Create(modelType, test.ItemShape, test.Classes));

    public ModelScore Score(torch.Tensor parameters)
    {
        var (loss, accuracy) = Evaluate(parameters);
        return new ModelScore(loss, accuracy, []);
    }

    public (double Loss, double Accuracy) Evaluate(torch.Tensor parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        FlatParameters.Set(_model, parameters);
        _model.eval();
        double lossSum = 0;
        long correct = 0;
        int n = test.Count;
        for (int start = 0; start < n; start += batchSize)
        {
            int len = Math.Min(batchSize, n - start);
            using var inner = torch.NewDisposeScope();
            var x = test.Features.narrow(0, start, len);
            var y = test.Labels.narrow(0, start, len);
            var logits = _model.forward(x);
            lossSum += torch.nn.functional.cross_entropy(logits, y, reduction: torch.nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(y).sum().item<long>();
        }
        return (lossSum / n, (double)correct / n);
    }

    public void Dispose() => _model.Dispose();
}

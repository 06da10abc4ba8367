using Actors.Learning.Training;
using TorchSharp;

namespace Actors.Learning.Federated;

/// <summary>Scores the model part x of the broadcast state [x | server state].</summary>
public sealed class FederatedEvaluator(IModelEvaluator model, long modelSize) : IModelEvaluator
{
    public ModelScore Score(torch.Tensor parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var x = parameters.narrow(0, 0, modelSize);
        return model.Score(x);
    }

    public void Dispose() => model.Dispose();
}

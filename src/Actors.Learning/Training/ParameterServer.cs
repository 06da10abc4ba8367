using Actors.Learning.Aggregation;
using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>
/// The server model and its optimizer: plain SGD on aggregated updates, <c>x &lt;- x - lr * AGG(u_1..u_n)</c>
/// (workers already applied their momentum). <see cref="Version"/> counts model versions.
/// </summary>
public sealed class ParameterServer(torch.Tensor initial, IAggregator aggregator, double lr) : IDisposable
{
    private readonly torch.Tensor _x = initial.detach().clone().DetachFromDisposeScope();

    public torch.Tensor Parameters => _x;
    public IAggregator Aggregator { get; } = aggregator;
    public long Version { get; private set; }

    /// <summary>One step with the aggregate of the round's updates.</summary>
    public void Step(IReadOnlyList<torch.Tensor> updates, AggregationContext context, double weight = 1.0)
    {
        using var scope = torch.NewDisposeScope();
        var aggregate = Aggregator.Aggregate(updates, context);
        using var step = ((float)(-lr * weight)).ToScalar(); // explicit: a temporary Scalar may be finalized mid-call
        _x.add_(aggregate, alpha: step);
        Version++;
    }

    /// <summary>Replaces the model (checkpoint restore).</summary>
    public void Restore(torch.Tensor parameters, long version)
    {
        _x.copy_(parameters);
        Version = version;
    }

    public static bool IsFinite(torch.Tensor t)
    {
        using var scope = torch.NewDisposeScope(); // keeps the isfinite temporary alive through all()
        return torch.isfinite(t).all().item<bool>();
    }

    public void Dispose() => _x.Dispose();
}

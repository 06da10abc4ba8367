using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Problems;

/// <summary>
/// A problem split over nodes: f(x) = (1/n) sum_i f_i(x), node i sees only f_i. Used by the gossip driver and by PeerActors.
/// </summary>
public interface IDecentralizedProblem : IDisposable
{
    int Nodes { get; }

    /// <summary>Number of parameters d (the flat model length).</summary>
    long Dimension { get; }

    /// <summary>`model.dtype` of node models and gradients (float32 or float64).</summary>
    torch.ScalarType DType { get; }

    /// <summary>Where the matrices sit in the flat vector (low-rank methods compress 2-D entries).</summary>
    ParameterLayout Layout { get; }

    /// <summary>The common starting model x_0 (a fresh tensor the caller owns).</summary>
    torch.Tensor InitialModel();

    /// <summary>
    /// Gradient of f_i at x: over the whole local shard (batch size 0) or over a minibatch drawn from (seed, node, step).
    /// A fresh tensor of <see cref="DType"/> the caller owns.
    /// </summary>
    torch.Tensor LocalGradient(int node, torch.Tensor x, long step);

    /// <summary>f(x) in float64, whatever the model dtype.</summary>
    double Objective(torch.Tensor x);

    /// <summary>f* = min f, computed to high precision (lazily, once).</summary>
    double OptimalValue { get; }
}

public static class DecentralizedProblemExtensions
{
    /// <summary>(f(x) - f*) / f*, what `final_suboptimality` reports for the nodes' average model.</summary>
    public static double Suboptimality(this IDecentralizedProblem problem, torch.Tensor x) => (problem.Objective(x) - problem.OptimalValue) / problem.OptimalValue;
}

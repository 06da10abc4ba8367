using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Federated;

/// <summary>
/// The centralized optimizer Mime and Mimelite mimic, split as in the paper into U (a step with a given, frozen state)
/// and V (the state's update). Momentum is the EMA form m = beta m + (1 - beta) g, x -= lr m; Adam keeps m and v with
/// beta1 = federated.server-momentum, beta2 = 0.99, eps 1e-8, without bias correction.
/// </summary>
public static class BaseOptimizerRule
{
    public const double AdamBeta2 = 0.99, AdamEps = 1e-8;

    /// <summary>U: y - lr * (the step the base optimizer would take from state <paramref name="state"/> with gradient g), a new tensor.</summary>
    public static torch.Tensor Step(torch.Tensor y, torch.Tensor g, IReadOnlyList<torch.Tensor> state, BaseOptimizer optimizer, double beta, double lr)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(state);
        using var scope = torch.NewDisposeScope();
        var direction = optimizer switch
        {
            BaseOptimizer.Sgd => g,
            BaseOptimizer.Momentum => state[0].MulBy(beta).AddScaled(g, 1 - beta),
            _ => state[0].MulBy(beta).AddScaled(g, 1 - beta)
                .div(state[1].MulBy(AdamBeta2).AddScaled(g.square(), 1 - AdamBeta2).sqrt().AddNumber_(AdamEps)),
        };
        return y.AddScaled(direction, -lr).MoveToOuterDisposeScope();
    }

    /// <summary>V: advances the state in place with gradient g.</summary>
    public static void Advance(IReadOnlyList<torch.Tensor> state, torch.Tensor g, BaseOptimizer optimizer, double beta)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(g);
        if (optimizer == BaseOptimizer.Sgd) return;
        state[0].MulBy_(beta).AddScaled_(g, 1 - beta);
        if (optimizer == BaseOptimizer.Adam)
        {
            using var g2 = g.square();
            state[1].MulBy_(AdamBeta2).AddScaled_(g2, 1 - AdamBeta2);
        }
    }
}

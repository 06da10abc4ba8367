using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Problems;

/// <summary>
/// Newton-CG in float64 for a smooth strongly convex f: conjugate gradients on H p = -g with Hessian-vector products
/// (forcing term min(0.5, sqrt ||g||) ||g||, so convergence is superlinear), Armijo backtracking, stop when ||g|| is below
/// the tolerance or stops improving. What gives f* to ~1e-16 relative for `final_suboptimality`.
/// </summary>
public static class NewtonSolver
{
    public sealed record Result(torch.Tensor X, double Value, double GradientNorm, int Iterations);

    public static Result Minimize(Func<torch.Tensor, double> f, Func<torch.Tensor, torch.Tensor> gradient,
        Func<torch.Tensor, torch.Tensor, torch.Tensor> hessianVector, long dimension, double gradientTolerance = 1e-11, int maxIterations = 200)
    {
        var x = torch.zeros(dimension, torch.float64);
        double fx = f(x);
        double gnorm = double.PositiveInfinity;
        int it = 0;
        int stalls = 0;
        for (; it < maxIterations; it++)
        {
            using var scope = torch.NewDisposeScope();
            var g = gradient(x);
            double newNorm = g.norm().item<double>();
            if (newNorm >= gnorm) stalls++;
            gnorm = Math.Min(gnorm, newNorm);
            if (newNorm <= gradientTolerance || stalls >= 3) break;
            var p = ConjugateGradient(v => hessianVector(x, v), g.neg(), Math.Min(0.5, Math.Sqrt(newNorm)) * newNorm, (int)Math.Min(dimension * 2, 500));
            double slope = g.dot(p).item<double>();
            double t = 1;
            for (int ls = 0; ls < 60; ls++, t *= 0.5)
            {
                var trial = x.AddScaled(p, t);
                double ft = f(trial);
                if (ft <= fx + 1e-4 * t * slope + 1e-15 * Math.Abs(fx))
                {
                    x.copy_(trial);
                    fx = ft;
                    break;
                }
            }
        }
        using (var g = gradient(x)) gnorm = g.norm().item<double>();
        return new Result(x, f(x), gnorm, it);
    }

    private static torch.Tensor ConjugateGradient(Func<torch.Tensor, torch.Tensor> a, torch.Tensor b, double tolerance, int maxIterations)
    {
        var x = torch.zeros_like(b);
        var r = b.clone();
        var p = r.clone();
        double rr = r.dot(r).item<double>();
        for (int i = 0; i < maxIterations && Math.Sqrt(rr) > tolerance; i++)
        {
            using var ap = a(p);
            double alpha = rr / p.dot(ap).item<double>();
            x.AddScaled_(p, alpha);
            r.AddScaled_(ap, -alpha);
            double rrNew = r.dot(r).item<double>();
            p.MulBy_(rrNew / rr).add_(r);
            rr = rrNew;
        }
        return x;
    }
}

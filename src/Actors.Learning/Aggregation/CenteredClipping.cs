using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Centered clipping ("Learning from History", ICML 2021, Alg. 2): L times
/// <c>v &lt;- v + (1/n) sum_i (x_i - v) min(1, tau / ||x_i - v||)</c>. The center v starts at 0 and is kept across
/// rounds, so round t starts from the previous aggregate.
/// Async variant (<paramref name="divideByExpected"/>): a worker that did not report contributes 0 and the sum is still
/// divided by the expected n (<see cref="AggregationContext.N"/>), so missing workers pull towards the old center.
/// </summary>
/// <remarks>
/// Cost: ||x_i - v||^2 = ||x_i||^2 - 2 x_i.v + ||v||^2 with the norms computed once (they double as the finiteness
/// check), and v' = v (1 - sum c_i / n) + (1/n) sum_i c_i x_i: an iteration reads every input twice (one dot product,
/// one accumulation) instead of forming x_i - v. The inputs are not stacked: a fresh [n, d] copy cost more than the
/// two matrix-vector products it enables (measured).
/// </remarks>
public sealed class CenteredClipping(double tau = 10, int iterations = 3, bool divideByExpected = false) : IAggregator, IDisposable
{
    private torch.Tensor? _center;

    public double Tau { get; } = tau > 0 ? tau : throw new ArgumentException($"aggregator.tau = {tau} is invalid: must be > 0", nameof(tau));

    public int Iterations { get; } = iterations >= 1 ? iterations
        : throw new ArgumentException($"aggregator.iterations = {iterations} is invalid: must be >= 1", nameof(iterations));

    public bool DivideByExpected { get; } = divideByExpected;

    public string Name => "cclip";

    /// <summary>A copy of the current center (null before the first round).</summary>
    public torch.Tensor? Center => _center?.clone();

    public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
    {
        long d = RobustInputs.Length(updates);
        using var scope = torch.NewDisposeScope();
        var x = RobustInputs.FiniteWithSquaredNorms(updates, context, out var norms);
        int n = x.Count;
        var dtype = updates[0].dtype;
        if (_center is null || _center.shape[0] != d || _center.dtype != dtype)
        {
            _center?.Dispose();
            _center = torch.zeros(d, dtype).DetachFromDisposeScope();
        }
        double divisor = DivideByExpected ? Math.Max(context.N, n) : n;
        if (n == 0) return _center.clone().MoveToOuterDisposeScope();

        var v = _center;
        double vv = v.dot(v).to(torch.float64).item<double>();
        var xv = new double[n];
        for (int l = 0; l < Iterations; l++)
        {
            // One read of each input for x_i.v, one accumulate for sum c_i x_i: no x_i - v is ever formed.
            for (int i = 0; i < n; i++) xv[i] = vv == 0 ? 0 : x[i].dot(v).to(torch.float64).item<double>();
            var c = new double[n];
            double cs = 0;
            for (int i = 0; i < n; i++)
            {
                double dist = Math.Sqrt(Math.Max(0, norms[i] - 2 * xv[i] + vv));
                c[i] = (dist <= Tau ? 1 : Tau / dist) / divisor;
                cs += c[i];
            }
            var next = vv == 0 ? x[0].MulBy(c[0]) : v.MulBy(1 - cs).AddScaled_(x[0], c[0]);
            for (int i = 1; i < n; i++) next.AddScaled_(x[i], c[i]);
            v = next;
            vv = v.dot(v).to(torch.float64).item<double>();
        }
        _center.Dispose();
        _center = v.detach().clone().DetachFromDisposeScope();
        return v.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _center?.Dispose();
        _center = null;
    }
}

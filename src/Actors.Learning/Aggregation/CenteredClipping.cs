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
/// Cost: ||x_i - v||^2 = ||x_i||^2 - 2 x_i.v + ||v||^2 with the norms computed once, and
/// v' = v (1 - sum c_i / n) + (1/n) X^T c; an iteration is two matrix-vector products over the stacked inputs X
/// instead of forming every x_i - v.
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
        var x = RobustInputs.StackFinite(updates, context, squaredNorms: true, out var norms);
        int n = (int)x.shape[0];
        if (_center is null || _center.shape[0] != d || _center.dtype != x.dtype)
        {
            _center?.Dispose();
            _center = torch.zeros(d, x.dtype).DetachFromDisposeScope();
        }
        double divisor = DivideByExpected ? Math.Max(context.N, n) : n;
        if (n == 0) return _center.clone().MoveToOuterDisposeScope();

        var v = _center;
        double vv = v.dot(v).to(torch.float64).item<double>();
        for (int l = 0; l < Iterations; l++)
        {
            var xv = vv == 0 ? new double[n] : RobustInputs.ToDoubles(x.mv(v));
            var c = new double[n];
            double cs = 0;
            for (int i = 0; i < n; i++)
            {
                double dist = Math.Sqrt(Math.Max(0, norms[i] - 2 * xv[i] + vv));
                c[i] = dist <= Tau ? 1 : Tau / dist;
                c[i] /= divisor;
                cs += c[i];
            }
            using var ct = torch.tensor(c, torch.float64).to(x.dtype);
            var next = ct.matmul(x);
            if (vv != 0) next.add_(v, alpha: 1 - cs);
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

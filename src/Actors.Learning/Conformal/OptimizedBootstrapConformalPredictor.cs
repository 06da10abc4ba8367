namespace Actors.Learning.Conformal;

/// <summary>
/// Exact full CP for the bootstrap measure with one shared pool over the n + 1 slots (the test example in the last).
/// Models whose sample leaves the test slot out (~37%) never see (x, y): they are trained once in Fit, and their
/// out-of-bag score sums per training point are kept. The others (~63%) are trained once per (x, y) and cached for
/// every point's score, instead of once per point: the speed-up is about n / 2.3.
/// </summary>
public sealed class OptimizedBootstrapConformalPredictor(int models = BootstrapMeasure.DefaultModels, double rho = LsSvmMeasure.DefaultRho, long seed = 1)
    : IConformalPredictor
{
    private readonly BootstrapMeasure _measure = new(models, rho, seed);
    private LabelledData? _training;
    private int[] _pool = [];
    private double[][] _fixedModels = [];   // models whose sample excludes the test slot
    private int[] _dynamic = [];            // indices of the models whose sample contains the test slot
    private double[] _fixedSum = [];
    private int[] _fixedCount = [];

    public string Name => "optimized-bootstrap";

    public void Fit(LabelledData training)
    {
        ArgumentNullException.ThrowIfNull(training);
        _measure.Validate(training);
        int n = training.Count, slots = n + 1, b = _measure.Models;
        _pool = _measure.DrawPool(slots);
        var fixedIdx = new List<int>();
        var dynamicIdx = new List<int>();
        for (int m = 0; m < b; m++) (_pool[m * slots + n] == 0 ? fixedIdx : dynamicIdx).Add(m);
        _dynamic = [.. dynamicIdx];
        _fixedModels = new double[fixedIdx.Count][];
        _fixedSum = new double[n];
        _fixedCount = new int[n];
        for (int f = 0; f < fixedIdx.Count; f++)
        {
            var weights = _pool.AsSpan(fixedIdx[f] * slots, n);
            var model = _fixedModels[f] = Ridge.Train(training, weights, -1, _measure.Rho);
            for (int i = 0; i < n; i++)
            {
                if (weights[i] != 0) continue;
                _fixedSum[i] += -Ridge.Decision(model, training.Labels[i], training.Row(i));
                _fixedCount[i]++;
            }
        }
        _training = training;
    }

    public double[] PValues(ReadOnlySpan<double> x)
    {
        var training = _training ?? throw new InvalidOperationException("call Fit before PValues");
        training.RequireDimension(x);
        int n = training.Count, slots = n + 1;
        var p = new double[training.Classes];
        var sum = new double[n];
        var count = new int[n];
        for (int y = 0; y < p.Length; y++)
        {
            var bag = training.Append(x, y);
            _fixedSum.CopyTo(sum, 0);
            _fixedCount.CopyTo(count, 0);
            foreach (var m in _dynamic)
            {
                var weights = _pool.AsSpan(m * slots, slots);
                var model = Ridge.Train(bag, weights, -1, _measure.Rho); // once per (x, y), shared by every point
                for (int i = 0; i < n; i++)
                {
                    if (weights[i] != 0) continue;
                    sum[i] += -Ridge.Decision(model, training.Labels[i], training.Row(i));
                    count[i]++;
                }
            }
            double testSum = 0;
            foreach (var model in _fixedModels) testSum += -Ridge.Decision(model, y, x);
            double test = _fixedModels.Length > 0 ? testSum / _fixedModels.Length : 0;
            int c = 0;
            for (int i = 0; i < n; i++)
                if (Ties.AtLeast(count[i] > 0 ? sum[i] / count[i] : 0, test)) c++;
            p[y] = (1.0 + c) / (n + 1);
        }
        return p;
    }
}

using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Problems;

/// <summary>
/// L2-regularized multinomial logistic regression split over nodes:
/// f_i(W) = mean over node i's samples of CE(softmax(W a), y) + (l2 / 2) ||W||^2, f = (1/n) sum_i f_i,
/// with W of shape [classes, features + 1] (a = features with a trailing 1, so the bias is regularized too and f is
/// l2-strongly convex). f* comes from <see cref="NewtonSolver"/> in float64 to a gradient norm below 1e-11.
/// </summary>
public sealed class LogisticRegressionProblem : IDecentralizedProblem
{
    private readonly torch.Tensor[] _features64;   // [N_i, F + 1] float64, for f and f*
    private readonly torch.Tensor[] _features;     // same in the model dtype, for gradients
    private readonly torch.Tensor[] _labels;       // [N_i] int64
    private readonly torch.Tensor[] _onehot64;     // [N_i, C] float64
    private readonly torch.Tensor[] _onehot;
    private readonly int _batchSize;
    private readonly long _seed;
    private double? _optimalValue;
    private torch.Tensor? _optimum;

    public LogisticRegressionProblem((torch.Tensor Features, torch.Tensor Labels)[] shards, int classes, double l2, torch.ScalarType dtype, int batchSize, long seed)
    {
        if (shards.Length == 0) throw new ArgumentException("need at least one node");
        if (l2 <= 0 || double.IsNaN(l2)) throw new ArgumentException($"model.l2 = {l2} is invalid: logistic regression needs l2 > 0 to be strongly convex");
        if (dtype is not (torch.ScalarType.Float32 or torch.ScalarType.Float64))
            throw new ArgumentException($"model.dtype = {dtype} is invalid (valid: float32, float64)");
        if (batchSize < 0) throw new ArgumentException($"data.batch-size = {batchSize} is invalid: 0 (whole shard) or positive");
        Classes = classes;
        L2 = l2;
        DType = dtype;
        _batchSize = batchSize;
        _seed = seed;
        int n = shards.Length;
        _features64 = new torch.Tensor[n];
        _features = new torch.Tensor[n];
        _labels = new torch.Tensor[n];
        _onehot64 = new torch.Tensor[n];
        _onehot = new torch.Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var (x, y) = shards[i];
            if (x.shape[0] == 0) throw new ArgumentException($"node {i} has no samples");
            using var scope = torch.NewDisposeScope();
            var x64 = x.reshape(x.shape[0], -1).to_type(torch.float64);
            var a = torch.cat([x64, torch.ones(x64.shape[0], 1, torch.float64)], 1);
            _features64[i] = a.detach().MoveToOuterDisposeScope();
            _features[i] = a.to_type(dtype).detach().MoveToOuterDisposeScope();
            _labels[i] = y.to_type(torch.int64).detach().clone().MoveToOuterDisposeScope();
            var oh = torch.nn.functional.one_hot(_labels[i], classes).to_type(torch.float64);
            _onehot64[i] = oh.detach().MoveToOuterDisposeScope();
            _onehot[i] = oh.to_type(dtype).detach().MoveToOuterDisposeScope();
        }
        Features = (int)_features64[0].shape[1] - 1;
        Layout = new ParameterLayout([("weight", [classes, Features + 1], 0, Dimension)]);
    }

    /// <summary>The generated well-conditioned problem (`data.dataset = synthetic`).</summary>
    public static LogisticRegressionProblem Synthetic(ConvexSyntheticSpec spec, int nodes, double l2, torch.ScalarType dtype, int batchSize, long seed)
    {
        var shards = ConvexSyntheticData.Generate(spec, nodes, seed);
        try
        {
            return new LogisticRegressionProblem(shards, spec.Classes, l2, dtype, batchSize, seed);
        }
        finally
        {
            foreach (var (x, y) in shards)
            {
                x.Dispose();
                y.Dispose();
            }
        }
    }

    /// <summary>A real dataset (e.g. Fashion-MNIST, features flattened) split by <paramref name="shards"/> (one index array per node).</summary>
    public static LogisticRegressionProblem FromDataset(Data.Dataset train, long[][] shards, double l2, torch.ScalarType dtype, int batchSize, long seed)
    {
        var parts = new (torch.Tensor, torch.Tensor)[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            using var idx = torch.tensor(shards[i], torch.int64);
            parts[i] = (train.Features.index_select(0, idx), train.Labels.index_select(0, idx));
        }
        try
        {
            return new LogisticRegressionProblem(parts, train.Classes, l2, dtype, batchSize, seed);
        }
        finally
        {
            foreach (var (x, y) in parts)
            {
                x.Dispose();
                y.Dispose();
            }
        }
    }

    public int Nodes => _features.Length;
    public int Classes { get; }
    public int Features { get; }
    public double L2 { get; }
    public torch.ScalarType DType { get; }
    public long Dimension => (long)Classes * (Features + 1);
    public ParameterLayout Layout { get; }

    public torch.Tensor InitialModel() => torch.zeros(Dimension, DType);

    public torch.Tensor LocalGradient(int node, torch.Tensor x, long step)
    {
        using var scope = torch.NewDisposeScope();
        var a = _features[node];
        var y = _onehot[node];
        if (_batchSize > 0)
        {
            using var gen = Util.TorchSetup.Generator(Seeds.Derive(_seed, "logreg-batch", step * Nodes + node));
            var idx = torch.randint(0, a.shape[0], [_batchSize], torch.int64, generator: gen);
            a = a.index_select(0, idx);
            y = y.index_select(0, idx);
        }
        return Gradient(a, y, x.to_type(a.dtype), L2).MoveToOuterDisposeScope();
    }

    /// <summary>grad of mean CE(softmax(A W^T), Y) + (l2/2)||W||^2 = (softmax(A W^T) - Y)^T A / N + l2 W, flattened.</summary>
    internal torch.Tensor Gradient(torch.Tensor a, torch.Tensor onehot, torch.Tensor x, double l2)
    {
        using var scope = torch.NewDisposeScope();
        var w = x.view(Classes, Features + 1);
        var s = torch.softmax(a.matmul(w.t()), 1).sub_(onehot);
        var g = s.t().matmul(a).DivBy_(a.shape[0]).AddScaled_(w, l2);
        return g.reshape(-1).MoveToOuterDisposeScope();
    }

    public double Objective(torch.Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var w = x.to_type(torch.float64).view(Classes, Features + 1);
        double total = 0;
        for (int i = 0; i < Nodes; i++)
        {
            var logits = _features64[i].matmul(w.t());
            var ce = torch.logsumexp(logits, 1).sub_(logits.mul(_onehot64[i]).sum(1)).mean();
            total += ce.item<double>();
        }
        return total / Nodes + 0.5 * L2 * w.square().sum().item<double>();
    }

    /// <summary>Test loss (mean cross-entropy, no regularization) and accuracy of model x on a held-out set.</summary>
    public (double Loss, double Accuracy) Evaluate(torch.Tensor x, torch.Tensor features, torch.Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        var f = features.reshape(features.shape[0], -1).to_type(torch.float64);
        if (f.shape[1] != Features) throw new ArgumentException($"test features have {f.shape[1]} columns, the model {Features}");
        var a = torch.cat([f, torch.ones(f.shape[0], 1, torch.float64)], 1);
        var logits = a.matmul(x.to_type(torch.float64).view(Classes, Features + 1).t());
        var y = labels.to_type(torch.int64);
        double loss = torch.nn.functional.cross_entropy(logits, y).item<double>();
        double accuracy = logits.argmax(1).eq(y).to_type(torch.float64).mean().item<double>();
        return (loss, accuracy);
    }

    /// <summary>grad f in float64 (mean of the nodes' exact local gradients).</summary>
    internal torch.Tensor FullGradient64(torch.Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var sum = torch.zeros(Dimension, torch.float64);
        for (int i = 0; i < Nodes; i++) sum.add_(Gradient(_features64[i], _onehot64[i], x, L2));
        return sum.DivBy_(Nodes).MoveToOuterDisposeScope();
    }

    /// <summary>Hessian-vector product of f in float64: per node (1/N) A^T (S∘Z - S∘rowsum(S∘Z)) with Z = A V^T, plus l2 V.</summary>
    internal torch.Tensor HessianVector64(torch.Tensor x, torch.Tensor v)
    {
        using var scope = torch.NewDisposeScope();
        var w = x.view(Classes, Features + 1);
        var vm = v.view(Classes, Features + 1);
        var sum = torch.zeros(Classes, Features + 1, torch.float64);
        for (int i = 0; i < Nodes; i++)
        {
            var a = _features64[i];
            var s = torch.softmax(a.matmul(w.t()), 1);
            var sz = s.mul(a.matmul(vm.t()));
            var r = sz.sub(s.mul(sz.sum(1, keepdim: true)));
            sum.add_(r.t().matmul(a).DivBy_(a.shape[0]));
        }
        return sum.DivBy_(Nodes).AddScaled_(vm, L2).reshape(-1).MoveToOuterDisposeScope();
    }

    public double OptimalValue
    {
        get
        {
            EnsureSolved();
            return _optimalValue!.Value;
        }
    }

    /// <summary>x* in float64 (owned by the problem).</summary>
    public torch.Tensor Optimum
    {
        get
        {
            EnsureSolved();
            return _optimum!;
        }
    }

    /// <summary>||grad f(x*)|| reached by the solver.</summary>
    public double OptimumGradientNorm
    {
        get
        {
            EnsureSolved();
            return _optimumGradientNorm;
        }
    }

    private double _optimumGradientNorm = double.NaN;

    private void EnsureSolved()
    {
        if (_optimalValue is not null) return;
        var result = NewtonSolver.Minimize(Objective, FullGradient64, HessianVector64, Dimension, gradientTolerance: 1e-11);
        _optimum = result.X;
        _optimalValue = result.Value;
        _optimumGradientNorm = result.GradientNorm;
    }

    public void Dispose()
    {
        foreach (var t in _features64.Concat(_features).Concat(_labels).Concat(_onehot64).Concat(_onehot)) t.Dispose();
        _optimum?.Dispose();
    }
}

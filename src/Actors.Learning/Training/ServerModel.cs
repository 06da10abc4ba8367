using Actors.Learning.Aggregation;
using Actors.Learning.Optim;
using Actors.Learning.Pruning;
using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>
/// The server model and its optimizer: <c>x &lt;- x - lr * AGG(u_1..u_n)</c> when workers apply their own momentum
/// (the default), or, with server momentum (<c>optimizer.momentum-at = server</c>), <c>m &lt;- beta m + AGG(..)</c>,
/// <c>x &lt;- x - lr * m</c>: momentum after the reduce, as the PowerSGD reference code applies it, so that error
/// feedback memories hold gradients, not momenta. With a mean aggregator and no compression the two are the same
/// algorithm. <see cref="Version"/> counts model versions. With a <see cref="ModelPruner"/> the parameters stay dense and
/// <see cref="Published"/> (what workers and the evaluator get) is the pruned model.
/// </summary>
public sealed class ServerModel : IDisposable
{
    private readonly torch.Tensor _x;
    private readonly LearningRateSchedule _schedule;
    private readonly WorkerMomentum? _momentum;
    private readonly IServerOptimizer? _optimizer;
    private torch.Tensor? _published;
    private long _publishedVersion = -1;

    public ServerModel(torch.Tensor initial, IAggregator aggregator, double lr, double serverMomentum = 0,
        MomentumForm form = MomentumForm.HeavyBall, ModelPruner? pruner = null, Lookahead? lookahead = null, IServerOptimizer? optimizer = null,
        LearningRateSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _x = initial.detach().clone().DetachFromDisposeScope();
        Aggregator = aggregator;
        _schedule = schedule ?? new LearningRateSchedule(lr);
        if (serverMomentum != 0) _momentum = new WorkerMomentum(serverMomentum, form);
        Pruner = pruner;
        Lookahead = lookahead;
        _optimizer = optimizer;
        lookahead?.Start(_x);
    }

    /// <summary>Lookahead around the server's optimizer (optimizer.lookahead), owned: disposed with the model.</summary>
    public Lookahead? Lookahead { get; }

    /// <summary>The dense parameters (what the optimizer updates).</summary>
    public torch.Tensor Parameters => _x;

    /// <summary>The pruning state, when the run prunes (owned: disposed with the model).</summary>
    public ModelPruner? Pruner { get; }

    /// <summary>The model workers train and the evaluator scores: the pruned model when pruning, else the parameters.</summary>
    public torch.Tensor Published
    {
        get
        {
            if (Pruner is null) return _x;
            if (_publishedVersion != Version || _published is null)
            {
                _published?.Dispose();
                _published = Pruner.Pruned(_x).DetachFromDisposeScope();
                _publishedVersion = Version;
            }
            return _published;
        }
    }
    public IAggregator Aggregator { get; }
    public long Version { get; private set; }

    /// <summary>The size of a worker's update: the model's, unless the run's messages have another shape (federated).</summary>
    public long UpdateSize
    {
        get => _updateSize ?? _x.numel();
        init => _updateSize = value;
    }

    private readonly long? _updateSize;

    /// <summary>One step with the aggregate of the round's updates.</summary>
    public void Step(IReadOnlyList<torch.Tensor> updates, AggregationContext context, double weight = 1.0)
    {
        using var scope = torch.NewDisposeScope();
        var aggregate = Aggregator.Aggregate(updates, context);
        double lr = _schedule.At(Version);
        bool whole = true;
        if (_optimizer is not null)
        {
            whole = _optimizer.Step(_x, aggregate, lr, weight);
        }
        else if (_momentum is null)
        {
            using var step = ((float)(-lr * weight)).ToScalar(); // explicit: a temporary Scalar may be finalized mid-call
            _x.add_(aggregate, alpha: step);
        }
        else
        {
            if (weight != 1.0)
            {
                using var w = ((float)weight).ToScalar();
                aggregate = aggregate.mul(w);
            }
            using var m = _momentum.Step(aggregate);
            using var step = ((float)-lr).ToScalar();
            _x.add_(m, alpha: step);
        }
        Version++;
        if (whole) Lookahead?.AfterStep(_x); // extragradient: lookahead counts whole steps, not half steps
        Pruner?.AfterStep(_x, Version);
    }

    /// <summary>What a checkpoint must keep: the model, followed by the server momentum when there is one.</summary>
    public torch.Tensor State()
    {
        if (_momentum is null) return _x.clone();
        using var zeros = _momentum.Buffer is null ? torch.zeros_like(_x) : null;
        return torch.cat([_x, _momentum.Buffer ?? zeros!], 0);
    }

    /// <summary>Restores a <see cref="State"/> (or a bare model, which starts the momentum afresh) at a version.</summary>
    public void Restore(torch.Tensor state, long version)
    {
        ArgumentNullException.ThrowIfNull(state);
        long d = _x.numel();
        if (state.numel() == d)
        {
            _x.copy_(state);
        }
        else if (_momentum is not null && state.numel() == 2 * d)
        {
            _x.copy_(state.narrow(0, 0, d));
            _momentum.Restore(state.narrow(0, d, d));
        }
        else
        {
            throw new ArgumentException($"a checkpoint of {state.numel()} values does not fit a model of {d}{(_momentum is null ? "" : $" (with momentum: {2 * d})")}");
        }
        Version = version;
        Lookahead?.Start(_x); // the slow weights are not checkpointed: a restart takes the restored model as slow weights
        Pruner?.Restore(_x, version);
    }

    /// <summary>
    /// Whether every element is finite. One read pass in the common case: NaN and infinities propagate into a sum, so a
    /// finite sum proves every element finite. Only a non-finite sum (a bad element, or finite elements whose sum
    /// overflows) pays for the exact element-wise check, whose temporaries cost ~8x more (it was a third of the
    /// aggregator's per-update time).
    /// </summary>
    public static bool IsFinite(torch.Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        using var scope = torch.NewDisposeScope(); // keeps the temporaries alive through item()
        if (t.is_floating_point() && double.IsFinite(t.sum().ToDouble())) return true;
        return torch.isfinite(t).all().item<bool>();
    }

    public void Dispose()
    {
        _x.Dispose();
        _momentum?.Dispose();
        _published?.Dispose();
        Pruner?.Dispose();
        Lookahead?.Dispose();
        _optimizer?.Dispose();
    }
}

using Actors.Learning.Data;
using Actors.Learning.Models;
using Actors.Learning.Optim;
using TorchSharp;

namespace Actors.Learning.Training;

/// <summary>
/// A worker's learning state: its data shard, its batch sampler and worker momentum; gradients are computed with a
/// <see cref="GradientModel"/> (shared between workers, or its own). <see cref="ComputeUpdate"/> is everything a worker
/// does per model version.
/// </summary>
public sealed class LocalTrainer : ILocalTrainer
{
    private readonly Dataset _shard;
    private readonly GradientModel _model;
    private readonly bool _ownsModel;
    private readonly WorkerMomentum _momentum;
    private readonly Random _rng;
    private readonly int _batchSize;
    private readonly Func<torch.Tensor, torch.Tensor>? _labelMap;
    private long[] _order = [];
    private int _cursor;

    /// <param name="batchSize">0 = the whole shard (exact local gradient).</param>
    /// <param name="labelMap">Optional label transform (label-flip attackers train on 9 - y).</param>
    /// <param name="model">A gradient model shared with other trainers (not disposed here), or null for one of its own.</param>
    public LocalTrainer(Dataset shard, ModelArchitecture modelType, int batchSize, double momentum, MomentumForm form, Random rng,
        Func<torch.Tensor, torch.Tensor>? labelMap = null, GradientModel? model = null)
    {
        ArgumentNullException.ThrowIfNull(shard);
        if (shard.Count == 0) throw new ArgumentException("a worker needs a non-empty data shard");
        _shard = shard;
        _ownsModel = model is null;
        _model = model ?? new GradientModel(modelType, shard.ItemShape, shard.Classes);
        _momentum = new WorkerMomentum(momentum, form);
        _rng = rng;
        _batchSize = batchSize <= 0 ? shard.Count : Math.Min(batchSize, shard.Count);
        _labelMap = labelMap;
        ParameterCount = _model.ParameterCount;
    }

    /// <summary>The worker's data (owned by whoever made it, who disposes it after the trainer).</summary>
    public Dataset Shard => _shard;

    public long ParameterCount { get; }
    public long Steps { get; private set; }

    /// <summary>Loss and flat stochastic gradient at <paramref name="parameters"/> on the next minibatch (no momentum).</summary>
    public (torch.Tensor Gradient, double Loss) Gradient(torch.Tensor parameters)
    {
        using var scope = torch.NewDisposeScope();
        var batch = NextBatch();
        using var idx = torch.tensor(batch, torch.int64);
        var (x, y) = _shard.Rows(idx);
        if (_labelMap is not null) y = _labelMap(y);
        var (g, loss) = _model.Gradient(parameters, x, y, GradientModel.RandomSeed(batch, Steps));
        Steps++;
        return (g.MoveToOuterDisposeScope(), loss);
    }

    /// <summary>Gradient, then worker momentum: the vector this worker sends (caller owns it).</summary>
    public torch.Tensor ComputeUpdate(torch.Tensor parameters)
    {
        var (g, _) = Gradient(parameters);
        using (g) return _momentum.Step(g);
    }

    private long[] NextBatch()
    {
        if (_batchSize == _shard.Count) return _order.Length == _shard.Count ? _order : _order = Enumerable.Range(0, _shard.Count).Select(i => (long)i).ToArray();
        // Sampling without replacement within an epoch, reshuffled each epoch (DataLoader(shuffle=True)).
        if (_order.Length != _shard.Count || _cursor + _batchSize > _order.Length)
        {
            _order = Partitioner.Permutation(_shard.Count, _rng);
            _cursor = 0;
        }
        var batch = _order[_cursor..(_cursor + _batchSize)];
        _cursor += _batchSize;
        return batch;
    }

    public void Dispose()
    {
        if (_ownsModel) _model.Dispose();
        _momentum.Dispose();
    }
}

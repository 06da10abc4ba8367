using Actors.Learning.Models;
using TorchSharp;

namespace Actors.Learning.Pruning;

/// <summary>
/// Dynamic model pruning with feedback (Lin et al., ICLR 2020), and the two baselines it is compared with, as the server
/// applies them. The server keeps the dense weights w and a magnitude mask m over the prunable weights (matrices and
/// kernels; biases and norms are never pruned), recomputed every <c>every</c> steps at the scheduled sparsity. Workers
/// only ever see the pruned model m * w and send the gradient there; the server applies it to the dense weights
/// (<c>w &lt;- w - lr * AGG(grad(m * w))</c>). The DPF trap (ALGORITHMS.md section 8): masking inside autograd would
/// zero the pruned weights' gradients, which is plain pruning; here the gradient is taken with respect to the values
/// m * w themselves, so a pruned weight gets its full gradient and can grow back into the mask (the feedback).
/// <see cref="PruningType.Magnitude"/> and <see cref="PruningType.Static"/> re-zero pruned weights after every step, so
/// they receive no update and never come back.
/// </summary>
public sealed class ModelPruner : IDisposable
{
    private readonly PruningSettings _settings;
    private readonly long _totalSteps;
    private readonly (long Offset, long Count)[] _layers; // the prunable tensors
    private readonly torch.Tensor _mask;                 // 1 = kept, 0 = pruned; biases always 1
    private readonly torch.Tensor _prunable;             // 1 where a weight may be pruned
    private readonly long _prunableCount;
    private bool _staticDone;

    public ModelPruner(PruningSettings settings, ParameterLayout layout, long totalSteps, torch.ScalarType dtype = torch.ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(layout);
        if (!settings.Enabled) throw new ArgumentException("pruning.type = none needs no pruner", nameof(settings));
        _settings = settings;
        _totalSteps = totalSteps;
        _layers = [.. layout.Entries.Where(e => e.Shape.Length >= 2).Select(e => (e.Offset, e.Count))];
        if (_layers.Length == 0) throw new ArgumentException("the model has no weight matrix to prune", nameof(layout));
        _prunableCount = _layers.Sum(l => l.Count);
        _mask = torch.ones(layout.Size, dtype: dtype).DetachFromDisposeScope();
        _prunable = torch.zeros(layout.Size, dtype: dtype).DetachFromDisposeScope();
        using var one = 1.0.ToScalar();
        foreach (var (offset, count) in _layers)
            using (var slice = _prunable.narrow(0, offset, count)) slice.fill_(one);
    }

    /// <summary>The current mask (1 kept, 0 pruned) over the whole vector.</summary>
    public torch.Tensor Mask => _mask;

    /// <summary>Fraction of the prunable weights the mask removes.</summary>
    public double Sparsity { get; private set; }

    /// <summary>Weights that were pruned and came back into the mask at the last recomputation.</summary>
    public long LastReentries { get; private set; }

    /// <summary>Re-entries over the whole run.</summary>
    public long TotalReentries { get; private set; }

    /// <summary>How many weights may be pruned (the denominator of <see cref="Sparsity"/>).</summary>
    public long PrunableCount => _prunableCount;

    /// <summary>The pruned model m * w (a new tensor, in the caller's scope).</summary>
    public torch.Tensor Pruned(torch.Tensor dense)
    {
        ArgumentNullException.ThrowIfNull(dense);
        return dense.mul(_mask);
    }

    /// <summary>
    /// After the server's step <paramref name="step"/> (1-based: the new version): baselines re-zero pruned weights (no
    /// update reaches them); every <c>every</c> steps the mask is recomputed at the scheduled sparsity. Returns true when
    /// the mask changed.
    /// </summary>
    public bool AfterStep(torch.Tensor dense, long step)
    {
        ArgumentNullException.ThrowIfNull(dense);
        if (_settings.Type != PruningType.Dpf) dense.mul_(_mask);
        bool recompute = _settings.Type == PruningType.Static
            ? !_staticDone && step >= _settings.Start
            : step >= _settings.Start && step % _settings.Every == 0;
        if (!recompute) return false;
        _staticDone = true;
        Recompute(dense, _settings.TargetAt(step, _totalSteps));
        if (_settings.Type != PruningType.Dpf) dense.mul_(_mask);
        return true;
    }

    /// <summary>Sets the mask to keep the largest-magnitude prunable weights at <paramref name="sparsity"/>, counting re-entries.</summary>
    public void Recompute(torch.Tensor dense, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(dense);
        using var scope = torch.NewDisposeScope();
        var old = _mask.clone();
        using (torch.no_grad())
        {
            if (_settings.Scope == PruningScope.Global)
            {
                var magnitudes = torch.cat([.. _layers.Select(l => dense.narrow(0, l.Offset, l.Count).abs())], 0);
                long prune = (long)Math.Round(sparsity * _prunableCount);
                var keep = KeepMask(magnitudes, prune);
                long at = 0;
                foreach (var (offset, count) in _layers)
                {
                    _mask.narrow(0, offset, count).copy_(keep.narrow(0, at, count));
                    at += count;
                }
            }
            else
            {
                foreach (var (offset, count) in _layers)
                    _mask.narrow(0, offset, count).copy_(KeepMask(dense.narrow(0, offset, count).abs(), (long)Math.Round(sparsity * count)));
            }
        }
        using var zero = 0.0.ToScalar();
        LastReentries = (long)_mask.sub(old).clamp_min(zero).sum().ToDouble(); // 0 -> 1 among the prunable weights
        TotalReentries += LastReentries;
        Sparsity = 1 - (_mask.mul(_prunable).sum().ToDouble() / _prunableCount);
    }

    /// <summary>1 for all but the <paramref name="prune"/> smallest magnitudes (ties broken by position, deterministically).</summary>
    private torch.Tensor KeepMask(torch.Tensor magnitudes, long prune)
    {
        var keep = torch.ones_like(magnitudes);
        if (prune <= 0) return keep;
        prune = Math.Min(prune, magnitudes.numel());
        // One stable sort: ties (the zeros of already-pruned weights) break by position, and it costs a few ms where
        // topk with k near d took ~150 ms on a 200k-weight model.
        var (_, order) = magnitudes.sort(dim: 0, descending: false, stable: true);
        using var zero = 0.0.ToScalar();
        keep.index_fill_(0, order.narrow(0, 0, prune), zero);
        return keep;
    }

    /// <summary>Restores the mask from the dense weights after a restart (the schedule's sparsity at <paramref name="step"/>).</summary>
    public void Restore(torch.Tensor dense, long step)
    {
        if (step <= 0 || (_settings.Type == PruningType.Static && step < _settings.Start)) return;
        _staticDone = true;
        long at = _settings.Type == PruningType.Static ? step : step / _settings.Every * _settings.Every;
        Recompute(dense, _settings.TargetAt(at, _totalSteps));
    }

    public void Dispose()
    {
        _mask.Dispose();
        _prunable.Dispose();
    }
}

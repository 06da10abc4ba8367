using TorchSharp;

namespace Actors.Learning.Data;

/// <summary>
/// An in-memory classification dataset: features [N, C, H, W] (or [N, D]) as float32 and labels [N] as int64.
/// Owns its tensors; a <see cref="View"/> shares its parent's instead (read its rows with <see cref="Rows"/>).
/// </summary>
public sealed class Dataset : IDisposable
{
    private readonly torch.Tensor _features, _labels;
    private readonly torch.Tensor? _rows; // a view: which rows of the parent's tensors, in order

    public Dataset(torch.Tensor features, torch.Tensor labels, int classes, string name)
        : this(features, labels, classes, name, rows: null)
    {
        if (features.shape[0] != labels.shape[0])
            throw new ArgumentException($"features ({features.shape[0]}) and labels ({labels.shape[0]}) differ in count");
    }

    private Dataset(torch.Tensor features, torch.Tensor labels, int classes, string name, torch.Tensor? rows)
    {
        _features = features;
        _labels = labels;
        _rows = rows;
        Classes = classes;
        Name = name;
    }

    /// <summary>All features. Not available on a view (it would be the parent's); use <see cref="Rows"/>.</summary>
    public torch.Tensor Features => _rows is null ? _features : throw ViewHasNoTensors();

    /// <summary>All labels. Not available on a view (it would be the parent's); use <see cref="Rows"/>.</summary>
    public torch.Tensor Labels => _rows is null ? _labels : throw ViewHasNoTensors();

    public int Classes { get; }
    public string Name { get; }
    public int Count => (int)(_rows?.shape[0] ?? _labels.shape[0]);
    public long[] ItemShape => _features.shape[1..];
    public bool IsView => _rows is not null;

    /// <summary>A copy of some rows (its own tensors).</summary>
    public Dataset Subset(long[] indices, string? name = null)
    {
        using var idx = Parents(indices);
        return new Dataset(_features.index_select(0, idx), _labels.index_select(0, idx), Classes, name ?? Name);
    }

    /// <summary>
    /// Some rows without copying them: a shard for a worker that reads minibatches through <see cref="Rows"/>. The view
    /// shares this dataset's tensors, so this dataset must outlive it; disposing the view frees only its row list.
    /// </summary>
    public Dataset View(long[] indices, string? name = null) =>
        new(_features, _labels, Classes, name ?? Name, Parents(indices).DetachFromDisposeScope());

    /// <summary>New tensors with the rows at <paramref name="positions"/> (0..Count-1) of this dataset or view.</summary>
    public (torch.Tensor Features, torch.Tensor Labels) Rows(torch.Tensor positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        if (_rows is null) return (_features.index_select(0, positions), _labels.index_select(0, positions));
        using var parents = _rows.index_select(0, positions);
        return (_features.index_select(0, parents), _labels.index_select(0, parents));
    }

    /// <summary>Row indices into the underlying tensors for positions of this dataset (a view maps them through its rows).</summary>
    private torch.Tensor Parents(long[] indices)
    {
        var idx = torch.tensor(indices, torch.int64);
        if (_rows is null) return idx;
        using (idx) return _rows.index_select(0, idx);
    }

    private static InvalidOperationException ViewHasNoTensors() =>
        new("a dataset view has no tensors of its own: read its rows with Rows(positions)");

    public void Dispose()
    {
        if (_rows is not null)
        {
            _rows.Dispose();
            return;
        }
        _features.Dispose();
        _labels.Dispose();
    }
}

/// <summary>Training and test split of one dataset, plus where it came from.</summary>
public sealed record DataBundle(Dataset Train, Dataset Test, string Source, bool IsSynthetic) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}

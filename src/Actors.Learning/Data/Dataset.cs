using TorchSharp;

namespace Actors.Learning.Data;

/// <summary>
/// An in-memory classification dataset: features [N, C, H, W] (or [N, D]) as float32 and labels [N] as int64.
/// Owns its tensors; a <see cref="View"/> shares its parent's instead (read its rows with <see cref="Rows"/>).
/// Image datasets (<see cref="FromPixels"/>) keep the uint8 pixels (a quarter of the memory, and no conversion pass at
/// load) and normalize the rows that are read, with the same element-wise operations as an eager conversion.
/// </summary>
public sealed class Dataset : IDisposable
{
    private readonly torch.Tensor _storage, _labels; // float features, or uint8 pixels when _scale is set
    private readonly torch.Tensor? _rows; // a view: which rows of the parent's tensors, in order
    private readonly PixelScale? _scale;
    private readonly Lock _gate = new();
    private torch.Tensor? _decoded; // all features of a pixel dataset, made on the first Features read

    /// <summary>Normalization of uint8 pixels: x = (p / 255 - Mean) / Std.</summary>
    private sealed record PixelScale(float Mean, float Std);

    public Dataset(torch.Tensor features, torch.Tensor labels, int classes, string name)
        : this(features, labels, classes, name, rows: null, scale: null)
    {
    }

    private Dataset(torch.Tensor storage, torch.Tensor labels, int classes, string name, torch.Tensor? rows, PixelScale? scale)
    {
        if (rows is null && storage.shape[0] != labels.shape[0])
            throw new ArgumentException($"features ({storage.shape[0]}) and labels ({labels.shape[0]}) differ in count");
        _storage = storage;
        _labels = labels;
        _rows = rows;
        _scale = scale;
        Classes = classes;
        Name = name;
    }

    /// <summary>An image dataset stored as uint8 <paramref name="pixels"/>, read as (p / 255 - mean) / std in float32.</summary>
    public static Dataset FromPixels(torch.Tensor pixels, torch.Tensor labels, int classes, string name, float mean, float std)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.dtype != torch.uint8) throw new ArgumentException($"pixels must be uint8, not {pixels.dtype}", nameof(pixels));
        if (!(std > 0)) throw new ArgumentException($"std must be > 0, not {std}", nameof(std));
        return new Dataset(pixels, labels, classes, name, rows: null, new PixelScale(mean, std));
    }

    /// <summary>All features (float32). Not available on a view (it would be the parent's); use <see cref="Rows"/>.</summary>
    public torch.Tensor Features
    {
        get
        {
            if (_rows is not null) throw ViewHasNoTensors();
            if (_scale is null) return _storage;
            lock (_gate) return _decoded ??= Decode(_storage).DetachFromDisposeScope();
        }
    }

    /// <summary>For an image dataset, the normalization x = (p / 255 - Mean) / Std its rows are read with; null otherwise.</summary>
    public (float Mean, float Std)? PixelNormalization => _scale is null ? null : (_scale.Mean, _scale.Std);

    /// <summary>All labels. Not available on a view (it would be the parent's); use <see cref="Rows"/>.</summary>
    public torch.Tensor Labels => _rows is null ? _labels : throw ViewHasNoTensors();

    public int Classes { get; }
    public string Name { get; }
    public int Count => (int)(_rows?.shape[0] ?? _labels.shape[0]);
    public long[] ItemShape => _storage.shape[1..];
    public bool IsView => _rows is not null;

    /// <summary>A copy of some rows (its own float tensors).</summary>
    public Dataset Subset(long[] indices, string? name = null)
    {
        using var idx = Parents(indices);
        using var selected = _storage.index_select(0, idx);
        return new Dataset(Decode(selected), _labels.index_select(0, idx), Classes, name ?? Name);
    }

    /// <summary>
    /// Some rows without copying them: a shard for a worker that reads minibatches through <see cref="Rows"/>. The view
    /// shares this dataset's tensors, so this dataset must outlive it; disposing the view frees only its row list.
    /// </summary>
    public Dataset View(long[] indices, string? name = null) =>
        new(_storage, _labels, Classes, name ?? Name, Parents(indices).DetachFromDisposeScope(), _scale);

    /// <summary>New float tensors with the rows at <paramref name="positions"/> (0..Count-1) of this dataset or view.</summary>
    public (torch.Tensor Features, torch.Tensor Labels) Rows(torch.Tensor positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        using var parents = _rows is null ? positions.alias() : _rows.index_select(0, positions);
        using var selected = _storage.index_select(0, parents);
        return (Decode(selected), _labels.index_select(0, parents));
    }

    /// <summary>Float features of stored rows: a new tensor (a copy for float storage, normalized pixels otherwise).</summary>
    private torch.Tensor Decode(torch.Tensor stored)
    {
        if (_scale is null) return stored.alias();
        using var max = 255f.ToScalar();
        using var mean = _scale.Mean.ToScalar();
        using var std = _scale.Std.ToScalar();
        return stored.to_type(torch.float32).div_(max).sub_(mean).div_(std);
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
        _storage.Dispose();
        _labels.Dispose();
        _decoded?.Dispose();
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

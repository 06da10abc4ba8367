using TorchSharp;

namespace Actors.Learning.Data;

/// <summary>
/// An in-memory classification dataset: features [N, C, H, W] (or [N, D]) as float32 and labels [N] as int64.
/// Owns its tensors.
/// </summary>
public sealed class Dataset : IDisposable
{
    public Dataset(torch.Tensor features, torch.Tensor labels, int classes, string name)
    {
        if (features.shape[0] != labels.shape[0])
            throw new ArgumentException($"features ({features.shape[0]}) and labels ({labels.shape[0]}) differ in count");
        Features = features;
        Labels = labels;
        Classes = classes;
        Name = name;
    }

    public torch.Tensor Features { get; }
    public torch.Tensor Labels { get; }
    public int Classes { get; }
    public string Name { get; }
    public int Count => (int)Labels.shape[0];
    public long[] ItemShape => Features.shape[1..];

    public Dataset Subset(long[] indices, string? name = null)
    {
        using var idx = torch.tensor(indices, torch.int64);
        return new Dataset(Features.index_select(0, idx), Labels.index_select(0, idx), Classes, name ?? Name);
    }

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
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

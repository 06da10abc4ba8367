using Actors.Learning.Data;
using TorchSharp;

namespace Actors.Learning.Tests.Data;

public class DatasetSpec
{
    private static Dataset Five() =>
        new(torch.arange(10, dtype: torch.float32).reshape(5, 2), torch.tensor(new long[] { 0, 1, 2, 3, 4 }), 5, "five");

    [Fact]
    public void A_view_reads_the_rows_it_names_without_copying_and_a_view_of_a_view_maps_through()
    {
        using var data = Five();
        using var view = data.View([4, 1, 3], "shard");
        Assert.True(view.IsView);
        Assert.Equal(3, view.Count);
        Assert.Equal([2L], view.ItemShape);
        using var positions = torch.tensor(new long[] { 2, 0 });
        var (x, y) = view.Rows(positions);
        using (x)
        using (y)
        {
            Assert.Equal(new[] { 6f, 7f, 8f, 9f }, x.data<float>().ToArray()); // rows 3 and 4 of the parent
            Assert.Equal(new long[] { 3, 4 }, y.data<long>().ToArray());
        }
        using var copy = view.Subset([1]);
        Assert.False(copy.IsView);
        Assert.Equal(new long[] { 1 }, copy.Labels.data<long>().ToArray());
        using var inner = view.View([0, 1]);
        using var all = torch.tensor(new long[] { 0, 1 });
        var (_, innerLabels) = inner.Rows(all);
        using (innerLabels) Assert.Equal(new long[] { 4, 1 }, innerLabels.data<long>().ToArray());
    }

    [Fact]
    public void A_view_has_no_tensors_of_its_own_and_disposing_it_leaves_the_parent_intact()
    {
        using var data = Five();
        var view = data.View([0]);
        Assert.Throws<InvalidOperationException>(() => view.Features);
        Assert.Throws<InvalidOperationException>(() => view.Labels);
        view.Dispose();
        Assert.Equal(10, data.Features.numel());
        Assert.Equal(4L, data.Labels[4].item<long>());
    }

    [Fact]
    public void A_pixel_dataset_reads_rows_normalized_exactly_as_an_eager_conversion_would()
    {
        var bytes = Enumerable.Range(0, 24).Select(i => (byte)(i * 11)).ToArray();
        using var raw = torch.tensor(bytes, torch.uint8);
        using var eager = raw.reshape(6, 1, 2, 2).to_type(torch.float32).div_(255f).sub_(0.2860f).div_(0.3530f);
        using var pixels = Dataset.FromPixels(raw.reshape(6, 1, 2, 2), torch.arange(6, dtype: torch.int64), 6, "px", 0.2860f, 0.3530f);
        Assert.Equal([1L, 2, 2], pixels.ItemShape);
        Assert.Equal(eager.data<float>().ToArray(), pixels.Features.data<float>().ToArray());
        using var view = pixels.View([5, 2]);
        using var positions = torch.tensor(new long[] { 1, 0 });
        var (x, y) = view.Rows(positions);
        using (x)
        using (y)
        using (var expected = eager.index_select(0, torch.tensor(new long[] { 2, 5 })))
        {
            Assert.Equal(torch.float32, x.dtype);
            Assert.Equal(expected.data<float>().ToArray(), x.data<float>().ToArray());
            Assert.Equal(new long[] { 2, 5 }, y.data<long>().ToArray());
        }
        using var copy = view.Subset([0]);
        Assert.Equal(eager[5].data<float>().ToArray(), copy.Features.data<float>().ToArray());
    }

    [Fact]
    public void Pixels_must_be_bytes_with_a_positive_std()
    {
        using var labels = torch.zeros(2, torch.int64);
        using var floats = torch.zeros(2, 3);
        Assert.Throws<ArgumentException>(() => Dataset.FromPixels(floats, labels, 2, "bad", 0, 1));
        using var bytes = torch.zeros(2, 3, torch.uint8);
        Assert.Throws<ArgumentException>(() => Dataset.FromPixels(bytes, labels, 2, "bad", 0, 0));
    }
}

public class DatasetLocatorSpec
{
    [Fact]
    public void A_configured_data_path_without_the_files_is_an_error_listing_them_not_a_silent_fallback()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-data-test", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte.gz"), [1]);
        try
        {
            var e = Assert.Throws<DatasetFormatException>(() => DatasetLocator.Load("fashion-mnist", dir, 1, _ => { }));
            Assert.Contains("lacks train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz)", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("train-images", e.Message, StringComparison.Ordinal);
            Assert.Throws<DatasetFormatException>(() => DatasetLocator.Describe("fashion-mnist", dir));
            Assert.Throws<DatasetFormatException>(() => DatasetLocator.Load("fashion-mnist", Path.Combine(dir, "nope"), 1, _ => { }));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

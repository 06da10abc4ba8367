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
}

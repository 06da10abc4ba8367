using Actors.Learning.Aggregation;
using Actors.Learning.Conformal;
using TorchSharp;

namespace Actors.Learning.Tests.Conformal;

public class ConformalFilterSpec
{
    private static torch.Tensor Update(int seed, float shift)
    {
        var rng = new Random(seed);
        return torch.tensor(Enumerable.Range(0, 16).Select(_ => (float)(0.1 * ConformalTestData.Normal(rng)) + shift).ToArray());
    }

    [Fact]
    public void Conformal_filter_drops_outlying_updates_and_counts_them()
    {
        var honest = Enumerable.Range(0, 10).Select(i => Update(i, 0)).ToList();
        var all = honest.Concat([Update(100, 5), Update(101, -6)]).ToList();
        var filter = new ConformalFilter(new Mean(), eps: 0.2, k: 2);
        var p = filter.PValues(all);
        Assert.True(p[10] < 0.2 && p[11] < 0.2, $"outliers got p = {p[10]}, {p[11]}");
        Assert.All(p.Take(10), v => Assert.True(v >= 0.2));
        var context = new AggregationContext(12, 2, 0, new Random(1));
        using var aggregate = filter.Aggregate(all, context);
        using var expected = new Mean().Aggregate(honest, new AggregationContext(10, 0, 0, new Random(1)));
        Assert.True(aggregate.allclose(expected));
        Assert.Equal(2, context.Dropped["filtered"]);
        foreach (var t in all) t.Dispose();
    }

    [Fact]
    public void Conformal_filter_drops_a_non_finite_update_without_poisoning_the_others()
    {
        var all = Enumerable.Range(0, 8).Select(i => Update(i, 0)).ToList();
        all.Add(torch.full(16, float.NaN));
        var p = new ConformalFilter(new Mean(), eps: 0.2, k: 2).PValues(all);
        Assert.Equal(1.0 / 9, p[8], 12);
        Assert.All(p.Take(8), v => Assert.True(v >= 0.2));
        foreach (var t in all) t.Dispose();
    }

    [Fact]
    public void Conformal_filter_passes_tiny_rounds_through_and_validates_settings()
    {
        using var a = Update(1, 0);
        using var b = Update(2, 9);
        var context = new AggregationContext(2, 0, 0, new Random(1));
        using var m = new ConformalFilter(new Mean(), 0.5).Aggregate([a, b], context);
        Assert.Empty(context.Dropped);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConformalFilter(new Mean(), 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConformalFilter(new Mean(), 0.1, 0));
        Assert.Equal("conformal-filter(mean)", new ConformalFilter(new Mean(), 0.1).Name);
    }
}

using Actors.Learning.Aggregation;
using TorchSharp;

namespace Actors.Learning.Tests;

public class MeanSpec
{
    [Fact]
    public void Mean_averages_coordinatewise_without_touching_inputs()
    {
        using var a = torch.tensor(new[] { 1f, 2f, 3f });
        using var b = torch.tensor(new[] { 3f, 0f, -3f });
        using var m = new Mean().Aggregate([a, b], new AggregationContext(2, 0, 0, new Random(1)));
        Assert.Equal(new[] { 2f, 1f, 0f }, m.data<float>().ToArray());
        Assert.Equal(new[] { 1f, 2f, 3f }, a.data<float>().ToArray());
    }
}

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

public class WorkerMomentumSpec
{
    [Fact]
    public void Heavy_ball_momentum_accumulates_and_survives_the_callers_dispose_scope()
    {
        using var momentum = new Actors.Learning.Optim.WorkerMomentum(0.5);
        using (torch.NewDisposeScope())
        {
            Assert.Equal(new[] { 2f }, momentum.Step(torch.tensor(new[] { 2f })).data<float>().ToArray()); // first step m = g
        }
        using (torch.NewDisposeScope())
        {
            Assert.Equal(new[] { 5f }, momentum.Step(torch.tensor(new[] { 4f })).data<float>().ToArray()); // 0.5 * 2 + 4
        }
    }

    [Fact]
    public void Ema_form_scales_the_gradient_by_one_minus_beta()
    {
        using var momentum = new Actors.Learning.Optim.WorkerMomentum(0.5, Actors.Learning.Optim.MomentumForm.Ema);
        Assert.Equal(new[] { 1f }, momentum.Step(torch.tensor(new[] { 2f })).data<float>().ToArray());
        Assert.Equal(new[] { 2.5f }, momentum.Step(torch.tensor(new[] { 4f })).data<float>().ToArray()); // 0.5 * 1 + 0.5 * 4
    }
}

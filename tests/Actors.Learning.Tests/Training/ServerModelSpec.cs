using Actors.Learning.Aggregation;
using Actors.Learning.Optim;
using Actors.Learning.Training;
using TorchSharp;

namespace Actors.Learning.Tests.Training;

public sealed class ParameterServerSpec
{
    private static AggregationContext Context(int n) => new(n, 0, 0, new Random(1));

    private static float[] Values(torch.Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void Server_momentum_follows_m_beta_m_plus_aggregate_then_x_minus_lr_m()
    {
        using var server = new ServerModel(torch.tensor(new[] { 1f, 2f }), new Mean(), lr: 0.5, serverMomentum: 0.5);
        using var a = torch.tensor(new[] { 2f, 0f });
        using var b = torch.tensor(new[] { 0f, 4f });
        server.Step([a, b], Context(2)); // agg = (1, 2); m = (1, 2); x = (1, 2) - 0.5 (1, 2) = (0.5, 1)
        Assert.Equal(new[] { 0.5f, 1f }, Values(server.Parameters));
        server.Step([a, a], Context(2)); // agg = (2, 0); m = 0.5 (1, 2) + (2, 0) = (2.5, 1); x = (0.5, 1) - 0.5 (2.5, 1) = (-0.75, 0.5)
        Assert.Equal(new[] { -0.75f, 0.5f }, Values(server.Parameters));
    }

    [Fact]
    public void With_a_mean_server_momentum_equals_worker_momentum()
    {
        const double lr = 0.1, beta = 0.9;
        var rng = new Random(7);
        var gradients = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 3)
            .Select(_ => torch.tensor(Enumerable.Range(0, 4).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray())).ToArray()).ToArray();
        using var atServer = new ServerModel(torch.zeros(4), new Mean(), lr, serverMomentum: beta);
        using var atWorkers = new ServerModel(torch.zeros(4), new Mean(), lr);
        var momenta = Enumerable.Range(0, 3).Select(_ => new WorkerMomentum(beta)).ToArray();
        foreach (var round in gradients)
        {
            atServer.Step(round, Context(3));
            var sent = round.Select((g, i) => momenta[i].Step(g)).ToArray();
            atWorkers.Step(sent, Context(3));
            foreach (var s in sent) s.Dispose();
        }
        Assert.True(atServer.Parameters.allclose(atWorkers.Parameters, rtol: 1e-5, atol: 1e-6));
        foreach (var m in momenta) m.Dispose();
    }

    [Fact]
    public void State_round_trips_the_model_and_the_momentum()
    {
        using var a = torch.tensor(new[] { 1f, -1f });
        using var first = new ServerModel(torch.zeros(2), new Mean(), 1, serverMomentum: 0.5);
        first.Step([a], Context(1));
        using var state = first.State();
        Assert.Equal(4, state.numel());

        using var second = new ServerModel(torch.zeros(2), new Mean(), 1, serverMomentum: 0.5);
        second.Restore(state, first.Version);
        first.Step([a], Context(1));
        second.Step([a], Context(1));
        Assert.Equal(Values(first.Parameters), Values(second.Parameters));
        Assert.Equal(1, second.Version - 1);
    }

    [Fact]
    public void Restore_rejects_a_state_of_the_wrong_size()
    {
        using var server = new ServerModel(torch.zeros(3), new Mean(), 1);
        using var wrong = torch.zeros(6);
        Assert.Throws<ArgumentException>(() => server.Restore(wrong, 1));
    }

    [Theory]
    [InlineData(new[] { 1f, -2f, 3f }, true)]
    [InlineData(new[] { 3e38f, 3e38f, 3e38f }, true)] // finite, though the sum overflows: the exact check decides
    [InlineData(new[] { 1f, float.NaN, 3f }, false)]
    [InlineData(new[] { float.PositiveInfinity, 0f }, false)]
    [InlineData(new[] { float.PositiveInfinity, float.NegativeInfinity }, false)] // the sum is NaN
    [InlineData(new[] { -3e38f, float.NegativeInfinity }, false)]
    public void IsFinite_is_exact(float[] values, bool expected)
    {
        using var t = torch.tensor(values);
        Assert.Equal(expected, ServerModel.IsFinite(t));
    }
}

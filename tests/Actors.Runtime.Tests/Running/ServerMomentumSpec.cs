namespace Actors.Runtime.Tests.Running;

/// <summary>`optimizer.momentum-at = server` is wired end to end: with mean and no compression it is worker momentum.</summary>
public sealed class ServerMomentumSpec
{
    [Fact]
    public async Task Server_momentum_with_a_mean_matches_worker_momentum_and_differs_from_none()
    {
        string[] common = ["experiment.steps=60", "optimizer.momentum=0.9", "optimizer.lr=0.02"];
        var (_, atWorkers) = await RunHelper.Run(common);
        var (_, atServer) = await RunHelper.Run([.. common, "optimizer.momentum-at=server"]);
        var (_, none) = await RunHelper.Run([.. common, "optimizer.momentum=0"]);

        double w = atWorkers.D("final_test_loss"), s = atServer.D("final_test_loss"), n = none.D("final_test_loss");
        Assert.True(Math.Abs(w - s) <= 1e-3 * Math.Abs(w), $"worker momentum loss {w} vs server momentum loss {s}");
        Assert.True(Math.Abs(w - n) > 1e-2 * Math.Abs(w), $"momentum made no difference ({w} vs {n}): is it wired?");
    }
}

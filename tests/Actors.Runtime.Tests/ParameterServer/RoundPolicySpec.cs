using Actors.Learning.Aggregation;
using Actors.Learning.Training;
using Actors.Learning.Wire;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using TorchSharp;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Tests.ParameterServer;

/// <summary>Timing changes when updates are applied, not how far a unit of work moves the model (the async-scaling rule).</summary>
public class RoundPolicySpec : TestKit
{
    private static TensorPayload Vec(params float[] v) => TensorPayload.FromTensor(torch.tensor(v));

    private (IActorRef Aggregator, ServerModel Server, TestProbe Coordinator, TestProbe[] Workers) Start(params string[] settings)
    {
        var spec = ExperimentSpec.Parse(ExperimentConfig.Load(null, ["workers.honest=4", "optimizer.lr=0.5", "experiment.steps=100", "experiment.eval-every=100",
            "experiment.mode=realtime", .. settings]));
        var server = new ServerModel(torch.tensor(new[] { 1f, 2f }), new Mean(), spec.Optimizer.Lr);
        var coordinator = CreateTestProbe();
        var workers = Enumerable.Range(0, 4).Select(_ => CreateTestProbe()).ToArray();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(spec, server, new RealtimeNetwork(Sys.Scheduler), new RealtimeClock(Sys.Scheduler),
            CreateTestProbe().Ref, coordinator.Ref, new RunProgress(spec.Steps)));
        aggregator.Tell(new Wire(aggregator, [.. workers.Select(w => w.Ref)], []));
        aggregator.Tell(new StartTraining());
        foreach (var w in workers) w.ExpectMsg<ModelBroadcast>();
        return (aggregator, server, coordinator, workers);
    }

    private static float[] Model(ServerModel s) => s.Parameters.data<float>().ToArray();

    [Fact]
    public void N_async_updates_of_a_vector_move_the_model_exactly_as_one_sync_round_of_them()
    {
        float[][] u = [[1f, -2f], [4f, 0.5f], [-8f, 2f], [0.25f, 1f]];
        var sync = Start("timing.mode=sync");
        for (int i = 0; i < 4; i++) sync.Aggregator.Tell(new WorkerUpdate(i, 0, Vec(u[i]), 0), sync.Workers[i].Ref);
        Assert.Equal(1, sync.Workers[0].ExpectMsg<ModelBroadcast>().Version);

        var async = Start("timing.mode=async");
        for (int i = 0; i < 4; i++)
        {
            async.Aggregator.Tell(new WorkerUpdate(i, 0, Vec(u[i]), 0), async.Workers[i].Ref);
            async.Workers[i].ExpectMsg<ModelBroadcast>();
        }
        // x - lr * mean(u) = [1, 2] - 0.5 * [-0.6875, 0.375]; async: four steps of (lr / 4) * u_i. Exact in float32.
        Assert.Equal(new[] { 1.34375f, 1.8125f }, Model(sync.Server));
        Assert.Equal(Model(sync.Server), Model(async.Server));
        Assert.Equal(4, async.Server.Version);
    }

    [Fact]
    public void A_buffer_of_k_moves_the_model_k_over_n_of_a_round_and_raw_async_takes_the_full_step()
    {
        var buffered = Start("timing.mode=buffered", "timing.buffer-size=2");
        buffered.Aggregator.Tell(new WorkerUpdate(0, 0, Vec(2f, 4f), 0), buffered.Workers[0].Ref);
        buffered.Aggregator.Tell(new WorkerUpdate(1, 0, Vec(6f, 0f), 0), buffered.Workers[1].Ref);
        buffered.Workers[0].ExpectMsg<ModelBroadcast>();
        // lr * K/n * mean = 0.5 * 2/4 * [4, 2]
        Assert.Equal(new[] { 0f, 1.5f }, Model(buffered.Server));

        var raw = Start("timing.mode=async", "optimizer.async-scaling=none");
        raw.Aggregator.Tell(new WorkerUpdate(0, 0, Vec(2f, 4f), 0), raw.Workers[0].Ref);
        raw.Workers[0].ExpectMsg<ModelBroadcast>();
        Assert.Equal(new[] { 0f, 0f }, Model(raw.Server)); // [1, 2] - 0.5 * [2, 4]
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("deadline")]
    [InlineData("async")]
    [InlineData("buffered")]
    public void When_every_live_worker_sends_a_non_finite_update_the_run_stops_there_as_diverged(string mode)
    {
        var run = Start($"timing.mode={mode}", "timing.quorum=3", "timing.buffer-size=2");
        for (int i = 0; i < 4; i++) run.Aggregator.Tell(new WorkerUpdate(i, 0, Vec(float.NaN, 1f), 0), run.Workers[i].Ref);
        var stats = run.Coordinator.ExpectMsg<TrainingFinished>().Stats;
        Assert.Equal(0, stats.DivergedAtStep);
        Assert.Equal(4, stats.UpdatesDropped["non_finite"]);
        Assert.Equal(0, stats.UpdatesApplied);
    }

    [Fact]
    public void A_sync_round_closes_without_a_worker_whose_update_was_non_finite()
    {
        var run = Start("timing.mode=sync");
        run.Aggregator.Tell(new WorkerUpdate(0, 0, Vec(float.PositiveInfinity, 0f), 0), run.Workers[0].Ref);
        for (int i = 1; i < 4; i++) run.Aggregator.Tell(new WorkerUpdate(i, 0, Vec(2f, 2f), 0), run.Workers[i].Ref);
        Assert.Equal(1, run.Workers[1].ExpectMsg<ModelBroadcast>().Version);
        Assert.Equal(new[] { 0f, 1f }, Model(run.Server)); // the mean of the three finite ones
        run.Coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }
}

using Actors.Learning.Aggregation;
using Actors.Learning.Training;
using Actors.Learning.Wire;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Protocol;
using Actors.Runtime.Running;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using TorchSharp;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Tests.ParameterServer;

public class AggregatorActorSpec : TestKit
{
    private static TensorPayload Vec(params float[] v) => TensorPayload.FromTensor(torch.tensor(v));

    private static float[] Values(TensorPayload p)
    {
        using var t = p.ToTensor();
        return t.data<float>().ToArray();
    }

    [Fact]
    public void One_sync_round_applies_the_mean_and_broadcasts_the_next_version()
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=2", "optimizer.lr=0.5", "experiment.steps=2", "experiment.eval-every=1", "experiment.mode=realtime"]);
        var server = new ServerModel(torch.tensor(new[] { 1f, 2f, 3f }), new Mean(), spec.Optimizer.Lr);
        var network = new RealtimeNetwork(Sys.Scheduler);
        var evaluator = CreateTestProbe();
        var coordinator = CreateTestProbe();
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(spec, server, network, new RealtimeClock(Sys.Scheduler), evaluator.Ref, coordinator.Ref, new RunProgress(2)));
        aggregator.Tell(new Wire(aggregator, [w0.Ref, w1.Ref], []));
        aggregator.Tell(new StartTraining());

        Assert.Equal(0, evaluator.ExpectMsg<EvaluateSnapshot>().Counters.Step);
        var m0 = w0.ExpectMsg<ModelBroadcast>();
        w1.ExpectMsg<ModelBroadcast>();
        Assert.Equal(0, m0.Version);
        Assert.Equal(new[] { 1f, 2f, 3f }, Values(m0.Model));

        aggregator.Tell(new WorkerUpdate(0, 0, Vec(1, 0, 0), 0), w0.Ref);
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // sync: waits for every live worker
        aggregator.Tell(new WorkerUpdate(1, 0, Vec(3, 0, -2), 0), w1.Ref);

        // x = [1,2,3] - 0.5 * mean([1,0,0], [3,0,-2]) = [1,2,3] - 0.5 * [2,0,-1]
        var m1 = w0.ExpectMsg<ModelBroadcast>();
        Assert.Equal(1, m1.Version);
        Assert.Equal(new[] { 0f, 2f, 3.5f }, Values(m1.Model));
        Assert.Equal(1, evaluator.ExpectMsg<EvaluateSnapshot>().Counters.Step);

        aggregator.Tell(new WorkerUpdate(0, 0, Vec(9, 9, 9), 0), w0.Ref); // a second message for version 0 changes nothing
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, server.Version);
    }

    [Fact]
    public void Non_finite_duplicate_and_malformed_updates_are_dropped_and_counted()
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=3", "optimizer.lr=1", "experiment.steps=1", "experiment.mode=realtime", "timing.mode=deadline", "timing.quorum=2"]);
        var server = new ServerModel(torch.zeros(2), new Mean(), 1);
        var coordinator = CreateTestProbe();
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(spec, server, new RealtimeNetwork(Sys.Scheduler), new RealtimeClock(Sys.Scheduler),
            CreateTestProbe().Ref, coordinator.Ref, new RunProgress(1)));
        aggregator.Tell(new Wire(aggregator, [w0.Ref, w1.Ref, CreateTestProbe().Ref], []));
        aggregator.Tell(new StartTraining());
        w0.ExpectMsg<ModelBroadcast>();

        aggregator.Tell(new WorkerUpdate(1, 0, Vec(float.PositiveInfinity, 0), 0)); // non-finite
        aggregator.Tell(new WorkerUpdate(1, 0, Vec(5, 5), 0)); // accepted: 1 of the quorum of 2
        aggregator.Tell(new WorkerUpdate(1, 0, Vec(7, 7), 0)); // worker 1 already has an update for version 0: duplicate
        aggregator.Tell(new WorkerUpdate(0, 5, Vec(1, 1), 0)); // a version that does not exist yet: malformed
        aggregator.Tell(new WorkerUpdate(9, 0, Vec(1, 1), 0)); // no such worker: malformed
        aggregator.Tell(new WorkerUpdate(0, 0, Vec(1, 1, 1), 0)); // wrong length: malformed
        coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, server.Version);

        aggregator.Tell(new WorkerUpdate(0, 0, Vec(1, 2), 0)); // the quorum's second update closes the round
        var stats = coordinator.ExpectMsg<TrainingFinished>().Stats;
        Assert.Equal(2, stats.UpdatesApplied);
        Assert.Equal(1, stats.UpdatesDropped["non_finite"]);
        Assert.Equal(3, stats.UpdatesDropped["malformed"]);
        Assert.Equal(1, stats.UpdatesDropped["duplicate"]);
        Assert.Equal(new[] { -3f, -3.5f }, server.Parameters.data<float>().ToArray());
    }
}

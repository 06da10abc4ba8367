using Actors.Learning.Aggregation;
using Actors.Learning.Training;
using Actors.Learning.Wire;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Running;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using TorchSharp;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Tests.Cluster;

public sealed class WorkersLostSpec : TestKit
{
    [Fact]
    public void Sync_round_closes_with_the_workers_left_when_one_crashes_and_checkpoints_follow_the_schedule()
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=2", "optimizer.lr=1", "experiment.steps=3", "experiment.eval-every=10", "experiment.mode=realtime"]);
        var server = new ServerModel(torch.zeros(2), new Mean(), spec.Optimizer.Lr);
        var evaluator = CreateTestProbe();
        var parent = CreateTestProbe();
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(spec, server, new RealtimeNetwork(Sys.Scheduler), new RealtimeClock(Sys.Scheduler), evaluator.Ref, parent.Ref,
            new RunProgress(3), checkpointEvery: 1));
        aggregator.Tell(new Wire(aggregator, [w0.Ref, w1.Ref], []));
        aggregator.Tell(new StartTraining());
        w0.ExpectMsg<ModelBroadcast>();
        w1.ExpectMsg<ModelBroadcast>();

        aggregator.Tell(new WorkerUpdate(0, 0, TensorPayload.FromTensor(torch.tensor(new[] { 1f, 1f })), 0), w0.Ref);
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // waits for worker 1
        aggregator.Tell(new WorkersLost([1]));
        Assert.Equal(1, w0.ExpectMsg<ModelBroadcast>().Version); // closed with worker 0 alone
        var checkpoint = parent.ExpectMsg<AggregatorCheckpoint>();
        Assert.Equal(1, checkpoint.Version);
        using (var model = checkpoint.Model.ToTensor()) Assert.Equal(new[] { -1f, -1f }, model.data<float>().ToArray());
        w1.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // a crashed worker gets no more models

        aggregator.Tell(new WorkerUpdate(0, 1, TensorPayload.FromTensor(torch.tensor(new[] { 1f, 1f })), 0), w0.Ref);
        Assert.Equal(2, w0.ExpectMsg<ModelBroadcast>().Version); // rounds go on with the live set
    }

    [Fact]
    public void An_aggregator_resumed_from_a_checkpoint_continues_its_totals()
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=2", "optimizer.lr=1", "experiment.steps=10", "experiment.eval-every=10", "experiment.mode=realtime"]);
        var server = new ServerModel(torch.zeros(2), new Mean(), spec.Optimizer.Lr);
        server.Restore(torch.zeros(2), 5);
        var resume = new AggregatorCounters(10, 30, 3_000, 1_000, 4_000, new Dictionary<string, long> { ["stale"] = 2 },
            new SortedDictionary<long, long> { [0] = 10 }, [5, 5], [2, 0]);
        var network = new RealtimeNetwork(Sys.Scheduler);
        var parent = CreateTestProbe();
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(spec, server, network, new RealtimeClock(Sys.Scheduler), CreateTestProbe().Ref, parent.Ref,
            new RunProgress(10), checkpointEvery: 1, resume: resume));
        aggregator.Tell(new Wire(aggregator, [w0.Ref, w1.Ref], []));
        aggregator.Tell(new StartTraining());
        w0.ExpectMsg<ModelBroadcast>();
        w1.ExpectMsg<ModelBroadcast>();
        aggregator.Tell(new WorkerUpdate(0, 5, TensorPayload.FromTensor(torch.tensor(new[] { 1f, 1f })), 8), w0.Ref);
        aggregator.Tell(new WorkerUpdate(1, 5, TensorPayload.FromTensor(torch.tensor(new[] { 1f, 1f })), 8), w1.Ref);
        var checkpoint = parent.FishForMessage<AggregatorCheckpoint>(_ => true);
        Assert.Equal(6, checkpoint.Version);
        Assert.Equal(12, checkpoint.Counters.UpdatesApplied); // 10 before the failover, 2 in this round
        Assert.Equal(2, checkpoint.Counters.Drops["stale"]);
        Assert.Equal(12, checkpoint.Counters.Staleness[0]);
        Assert.Equal([6L, 6L], checkpoint.Counters.Accepted);
        Assert.Equal([2L, 0L], checkpoint.Counters.Dropped);
        Assert.Equal(32, checkpoint.Counters.MessagesSent); // the first two broadcasts add to the 30 carried over
        Assert.Equal((1_000L, 4_000L), (checkpoint.Counters.BytesUplink, checkpoint.Counters.BytesUplinkUncompressed)); // local updates count on the sender's side
    }
}

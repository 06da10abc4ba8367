using Actors.Learning.Aggregation;
using Actors.Learning.Compression;
using Actors.Learning.Data;
using Actors.Learning.Models;
using Actors.Learning.Optim;
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

namespace Actors.Runtime.Tests.ParameterServer;

/// <summary>
/// Akka delivers at most once, so on the cluster an update or a model can be lost (a faulty link, a dropped association):
/// a worker that gets no newer model sends its update again, with a doubling wait; the aggregator applies a resent update
/// it never got, and answers one for an older version with the current model, once per version. Off in simulation.
/// </summary>
public sealed class LostMessageSpec : TestKit
{
    private static (LocalTrainer Trainer, UpdateCodec Codec) Parts()
    {
        using var data = SyntheticData.Generate(new SyntheticSpec(Train: 64, Test: 8, Features: 4, Classes: 2), 1);
        var trainer = new LocalTrainer(data.Train.Subset([.. Enumerable.Range(0, 32).Select(i => (long)i)]), "logreg", 8, 0, MomentumForm.HeavyBall, new Random(1));
        using var model = ModelFactory.Create("logreg", [4], 2);
        return (trainer, new UpdateCodec(new Identity(), ParameterLayout.Of(model), 1));
    }

    private IActorRef Worker(IActorRef aggregator, LocalTrainer trainer, UpdateCodec codec, TimeSpan resendAfter)
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=1", "experiment.mode=realtime"]);
        var worker = Sys.ActorOf(WorkerActor.Props(0, trainer, codec, new RealtimeNetwork(Sys.Scheduler), new RealtimeClock(Sys.Scheduler),
            new NetworkModel(spec.Timing, 1, 1), simulated: false, resendAfter));
        worker.Tell(new Wire(aggregator, [], []));
        return worker;
    }

    [Fact]
    public void A_worker_without_a_newer_model_resends_its_update_with_a_doubling_wait_and_stops_once_one_comes()
    {
        var (trainer, codec) = Parts();
        var aggregator = CreateTestProbe();
        var worker = Worker(aggregator.Ref, trainer, codec, TimeSpan.FromMilliseconds(300));
        worker.Tell(new ModelBroadcast(0, TensorPayload.FromTensor(torch.zeros(trainer.ParameterCount))));
        var first = aggregator.ExpectMsg<WorkerUpdate>();
        var started = DateTime.UtcNow;
        var again = aggregator.ExpectMsg<WorkerUpdate>(TimeSpan.FromSeconds(3));
        var firstWait = DateTime.UtcNow - started;
        Assert.Equal((0, 0L), (again.WorkerId, again.Version));
        using (var a = first.Update.ToTensor())
        using (var b = again.Update.ToTensor())
            Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray()); // the same update, not a new computation
        started = DateTime.UtcNow;
        aggregator.ExpectMsg<WorkerUpdate>(TimeSpan.FromSeconds(3));
        var secondWait = DateTime.UtcNow - started;
        Assert.True(firstWait >= TimeSpan.FromMilliseconds(250) && secondWait >= TimeSpan.FromMilliseconds(500), $"{firstWait}, {secondWait}"); // 300 ms, then 600 ms

        worker.Tell(new ModelBroadcast(1, TensorPayload.FromTensor(torch.zeros(trainer.ParameterCount))));
        Assert.Equal(1, aggregator.FishForMessage<WorkerUpdate>(u => u.Version == 1).Version);
        worker.Tell(new ModelBroadcast(2, TensorPayload.FromTensor(torch.zeros(trainer.ParameterCount))));
        Assert.Equal(2, aggregator.FishForMessage<WorkerUpdate>(u => u.Version == 2).Version);
        worker.Tell(new ModelBroadcast(3, TensorPayload.FromTensor(torch.zeros(trainer.ParameterCount)))); // newer models keep coming: no resend of 0
        aggregator.FishForMessage<WorkerUpdate>(u => u.Version == 3);
        aggregator.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_failure_from_someone_else_is_logged_and_the_worker_goes_on()
    {
        var (trainer, codec) = Parts();
        var aggregator = CreateTestProbe();
        var worker = Worker(aggregator.Ref, trainer, codec, TimeSpan.Zero);
        Watch(worker);
        worker.Tell(new Status.Failure(null!), CreateTestProbe().Ref); // e.g. a lost transfer's failure, its cause lost on the wire
        worker.Tell(new ModelBroadcast(0, TensorPayload.FromTensor(torch.zeros(trainer.ParameterCount))));
        aggregator.ExpectMsg<WorkerUpdate>();
        ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // not terminated
    }

    [Fact]
    public void Without_a_resend_interval_a_worker_waits_as_it_always_did()
    {
        var (trainer, codec) = Parts();
        var aggregator = CreateTestProbe();
        var worker = Worker(aggregator.Ref, trainer, codec, TimeSpan.Zero);
        worker.Tell(new ModelBroadcast(0, TensorPayload.FromTensor(torch.zeros(trainer.ParameterCount))));
        aggregator.ExpectMsg<WorkerUpdate>();
        aggregator.ExpectNoMsg(TimeSpan.FromMilliseconds(700));
    }

    [Fact]
    public void The_aggregator_applies_a_resent_update_it_never_got_and_answers_one_for_an_older_version_with_the_current_model_at_most_once_a_second()
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=2", "optimizer.lr=1", "experiment.steps=10", "experiment.eval-every=10", "experiment.mode=realtime"]);
        var server = new ServerModel(torch.zeros(2), new Mean(), spec.Optimizer.Lr);
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(spec, server, new RealtimeNetwork(Sys.Scheduler), new RealtimeClock(Sys.Scheduler), CreateTestProbe().Ref,
            CreateTestProbe().Ref, new RunProgress(10), resendsModels: true));
        aggregator.Tell(new Wire(aggregator, [w0.Ref, w1.Ref], []));
        aggregator.Tell(new StartTraining());
        w0.ExpectMsg<ModelBroadcast>();
        w1.ExpectMsg<ModelBroadcast>();
        WorkerUpdate Update(int worker, long version) => new(worker, version, TensorPayload.FromTensor(torch.tensor(new[] { 1f, 1f })), 8);

        aggregator.Tell(Update(0, 0), w0.Ref);
        aggregator.Tell(Update(0, 0), w0.Ref); // a resend of what already arrived: a duplicate, and version 0 is current: no model
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(150));
        aggregator.Tell(Update(1, 0), w1.Ref); // worker 1's first copy was lost; its resend closes the round
        Assert.Equal(1, w0.ExpectMsg<ModelBroadcast>().Version);
        Assert.Equal(1, w1.ExpectMsg<ModelBroadcast>().Version);

        // worker 0's model 1 was lost: it sends its version-0 update again, twice
        aggregator.Tell(Update(0, 0), w0.Ref);
        var rescued = w0.ExpectMsg<ModelBroadcast>();
        Assert.Equal((1L, false), (rescued.Version, rescued.IsDelta));
        using (var m = rescued.Model.ToTensor()) Assert.Equal(new[] { -1f, -1f }, m.data<float>().ToArray());
        aggregator.Tell(Update(0, 0), w0.Ref);
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(150)); // a flood of duplicates gets nothing more for a second
        w1.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        Thread.Sleep(1000);
        aggregator.Tell(Update(0, 0), w0.Ref); // the re-sent model may have been lost too: after a second it goes again
        Assert.Equal(1, w0.ExpectMsg<ModelBroadcast>().Version);
    }

    [Fact]
    public void In_simulation_a_duplicate_for_an_older_version_gets_no_model()
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=1", "optimizer.lr=1", "experiment.steps=10", "experiment.eval-every=10", "experiment.mode=realtime"]);
        var server = new ServerModel(torch.zeros(2), new Mean(), spec.Optimizer.Lr);
        var w0 = CreateTestProbe();
        var aggregator = Sys.ActorOf(AggregatorActor.Props(spec, server, new RealtimeNetwork(Sys.Scheduler), new RealtimeClock(Sys.Scheduler), CreateTestProbe().Ref,
            CreateTestProbe().Ref, new RunProgress(10)));
        aggregator.Tell(new Wire(aggregator, [w0.Ref], []));
        aggregator.Tell(new StartTraining());
        w0.ExpectMsg<ModelBroadcast>();
        aggregator.Tell(new WorkerUpdate(0, 0, TensorPayload.FromTensor(torch.tensor(new[] { 1f, 1f })), 8), w0.Ref);
        Assert.Equal(1, w0.ExpectMsg<ModelBroadcast>().Version);
        aggregator.Tell(new WorkerUpdate(0, 0, TensorPayload.FromTensor(torch.tensor(new[] { 1f, 1f })), 8), w0.Ref);
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}

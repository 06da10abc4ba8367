using Actors.Learning.Attacks;
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
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Tests.ParameterServer;

public class ByzantineActorSpec : TestKit
{
    private static (LocalTrainer Trainer, UpdateCodec Codec, TensorPayload Model) Parts()
    {
        using var data = SyntheticData.Generate(new SyntheticSpec(Train: 64, Test: 8, Features: 4, Classes: 2), 1);
        var trainer = new LocalTrainer(data.Train.Subset([.. Enumerable.Range(0, 32).Select(i => (long)i)]), "logreg", 8, 0, MomentumForm.HeavyBall, new Random(1));
        using var model = ModelFactory.Create("logreg", [4], 2);
        var codec = new UpdateCodec(new Identity(), ParameterLayout.Of(model), 1);
        return (trainer, codec, TensorPayload.FromTensor(torch.zeros(trainer.ParameterCount)));
    }

    private IActorRef Byzantine(string attack, IActorRef aggregator, LocalTrainer trainer, UpdateCodec codec)
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=2", "workers.byzantine=1", $"attack.type={attack}", "experiment.mode=realtime"]);
        var network = new RealtimeNetwork(Sys.Scheduler);
        var a = AttackFactory.Create(spec.Attack, 3, 1)!;
        var actor = Sys.ActorOf(ByzantineActor.Props(2, 2, 3, 1, a, trainer, codec, network, new RealtimeClock(Sys.Scheduler),
            new NetworkModel(spec.Timing, 1, 3), simulated: false, versionedRounds: true, seed: 1));
        actor.Tell(new Wire(aggregator, [], []));
        return actor;
    }

    [Fact]
    public void Last_mover_waits_for_every_honest_update_of_the_round_then_crafts_against_them()
    {
        var (trainer, codec, model) = Parts();
        var aggregator = CreateTestProbe();
        var byzantine = Byzantine("last-mover", aggregator.Ref, trainer, codec);
        byzantine.Tell(new ModelBroadcast(0, model));
        var h0 = TensorPayload.FromTensor(torch.full(trainer.ParameterCount, 1f));
        var h1 = TensorPayload.FromTensor(torch.full(trainer.ParameterCount, 3f));
        byzantine.Tell(new HonestTap(0, 0, h0));
        aggregator.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // one honest update of two is not the whole round
        byzantine.Tell(new HonestTap(1, 0, h1));
        var sent = aggregator.ExpectMsg<WorkerUpdate>();
        Assert.Equal(2, sent.WorkerId);
        Assert.Equal(0, sent.Version);
        using var v = sent.Update.ToTensor();
        // ALIE (last-mover's default) against {1, 3}: n = 3, f = 1 gives s = 1 and z = Phi^-1(1/2) = 0, so mu = 2 exactly:
        // a vector it could only craft after seeing both honest updates.
        Assert.Equal(2f, v[0].item<float>(), 5);
    }

    [Fact]
    public void Flood_sends_rate_messages_per_round_and_bitflip_needs_no_tap()
    {
        var (trainer, codec, model) = Parts();
        var aggregator = CreateTestProbe();
        var byzantine = Byzantine("flood", aggregator.Ref, trainer, codec);
        byzantine.Tell(new ModelBroadcast(0, model));
        for (int i = 0; i < 10; i++) Assert.Equal(0, aggregator.ExpectMsg<WorkerUpdate>().Version);
        aggregator.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        byzantine.Tell(new ModelBroadcast(0, model)); // the same version again: nothing new
        aggregator.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    /// <summary>A colluding attack that counts how often it is crafted: the honest mean plus the round.</summary>
    private sealed class CountingAttack(bool same) : IAttack
    {
        public int Crafts;
        public string Name => "counting";
        public bool NeedsHonestVectors => true;
        public bool SameForAllColluders => same;

        public torch.Tensor Craft(AttackContext context)
        {
            Interlocked.Increment(ref Crafts);
            return torch.stack(context.Honest, 0).mean([0L]).add_(context.Round);
        }
    }

    private List<float> TwoColludersOneRound(CountingAttack attack, bool versionedRounds, long version)
    {
        var (trainer, codec, model) = Parts();
        var (_, codec2, _) = Parts();
        var spec = ExperimentKinds.Load(null, ["workers.honest=2", "workers.byzantine=2", "attack.type=ipm", "experiment.mode=realtime"]);
        var aggregator = CreateTestProbe();
        using var board = new CollusionBoard();
        var colluders = new[] { (Id: 2, Codec: codec), (Id: 3, Codec: codec2) }.Select(c =>
        {
            var actor = Sys.ActorOf(ByzantineActor.Props(c.Id, 2, 4, 2, attack, trainer, c.Codec, new RealtimeNetwork(Sys.Scheduler), new RealtimeClock(Sys.Scheduler),
                new NetworkModel(spec.Timing, 1, 4), simulated: false, versionedRounds, seed: 1, board));
            actor.Tell(new Wire(aggregator.Ref, [], []));
            return actor;
        }).ToList();
        var sent = new List<float>();
        foreach (var c in colluders)
        {
            c.Tell(new ModelBroadcast(version, model));
            c.Tell(new HonestTap(0, version, TensorPayload.FromTensor(torch.full(trainer.ParameterCount, 1f))));
            c.Tell(new HonestTap(1, version, TensorPayload.FromTensor(torch.full(trainer.ParameterCount, 3f))));
            using var v = aggregator.ExpectMsg<WorkerUpdate>().Update.ToTensor();
            sent.Add(v[0].item<float>());
        }
        return sent;
    }

    [Fact]
    public void Colluders_in_versioned_rounds_craft_a_shared_attack_once_per_round_and_send_the_same_vector()
    {
        var attack = new CountingAttack(same: true);
        Assert.Equal([9f, 9f], TwoColludersOneRound(attack, versionedRounds: true, version: 7)); // mean 2 + round 7
        Assert.Equal(1, attack.Crafts);
    }

    [Fact]
    public void Each_colluder_crafts_its_own_when_the_attack_is_per_worker_or_rounds_are_not_versioned()
    {
        var perWorker = new CountingAttack(same: false);
        Assert.Equal([2f, 2f], TwoColludersOneRound(perWorker, versionedRounds: true, version: 0));
        Assert.Equal(2, perWorker.Crafts);
        var unversioned = new CountingAttack(same: true);
        Assert.Equal([2f, 2f], TwoColludersOneRound(unversioned, versionedRounds: false, version: 0));
        Assert.Equal(2, unversioned.Crafts);
    }
}

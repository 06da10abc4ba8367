using System.Buffers.Binary;
using Actors.Learning.Aggregation;
using Actors.Learning.Training;
using Actors.Learning.Wire;
using Actors.Runtime.Cluster;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Protocol;
using Actors.Runtime.Running;
using Actors.Runtime.Simulation;
using Akka.Actor;
using Akka.Serialization;
using TorchSharp;
using static Actors.Runtime.Protocol.ExperimentProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Tests.Cluster;

/// <summary>
/// Two ActorSystems over real Akka.Remote on loopback, with the cluster node config: a hostile peer sends the aggregator garbage,
/// oversized and NaN-filled learning messages. The receiving node stays up, the association keeps working, and every bad
/// message is dropped and counted (serializer drops in <see cref="ParameterServerSerializer.Dropped"/>, aggregator drops by reason).
/// </summary>
public sealed class HostilePeerSpec : IAsyncLifetime
{
    private ActorSystem _node = null!, _peer = null!;

    public Task InitializeAsync()
    {
        _node = ActorSystem.Create("actors", Config("aggregator", "actors.tensor-payload.max-elements = 100000"));
        _peer = ActorSystem.Create("actors", Config("worker",
            $"akka.actor.serializers.actors-ps = \"{typeof(RawParameterServerSerializer).FullName}, {typeof(RawParameterServerSerializer).Assembly.GetName().Name}\"",
            $"akka.actor.serialization-bindings {{ \"{typeof(RawMessage).FullName}, {typeof(RawMessage).Assembly.GetName().Name}\" = actors-ps }}"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _peer.Terminate();
        await _node.Terminate();
    }

    private static Akka.Configuration.Config Config(string role, params string[] extra) =>
        Akka.Configuration.ConfigurationFactory.ParseString(string.Join("\n", extra)).WithFallback(ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = [role],
            Environment = new Dictionary<string, string?>(),
            Overrides = ["akka.actor.provider=remote", "akka.loglevel=ERROR"],
        }));

    [Fact]
    public async Task Garbage_oversized_and_nan_updates_are_dropped_and_counted_and_the_node_stays_up()
    {
        var spec = ExperimentKinds.Load(null, ["workers.honest=2", "experiment.steps=1", "experiment.eval-every=1", "experiment.mode=realtime"]);
        var finished = new TaskCompletionSource<TrainingStats>(TaskCreationOptions.RunContinuationsAsynchronously);
        var model = new TaskCompletionSource<ModelBroadcast>(TaskCreationOptions.RunContinuationsAsynchronously);
        var coordinator = _node.ActorOf(Props.Create(() => new Capture<TrainingFinished>(f => finished.TrySetResult(f.Stats))), "coordinator");
        var evaluator = _node.ActorOf(Props.Create(() => new Capture<EvaluateSnapshot>(Ignore)), "evaluator");
        var server = new ServerModel(torch.zeros(10), new Mean(), 0.1);
        var aggregator = _node.ActorOf(AggregatorActor.Props(spec, server, new RealtimeNetwork(_node.Scheduler), new RealtimeClock(_node.Scheduler), evaluator, coordinator,
            new RunProgress(1)), "aggregator");

        var worker = _peer.ActorOf(Props.Create(() => new Capture<ModelBroadcast>(m => model.TrySetResult(m))), "worker");
        var nodeAddress = ((ExtendedActorSystem)_node).Provider.DefaultAddress;
        var peerAddress = ((ExtendedActorSystem)_peer).Provider.DefaultAddress;
        var remoteWorker = ((ExtendedActorSystem)_node).Provider.ResolveActorRef(worker.Path.ToStringWithAddress(peerAddress));
        aggregator.Tell(new Wire(aggregator, [remoteWorker, remoteWorker], []));
        aggregator.Tell(new StartTraining());
        var v0 = await model.Task.WaitAsync(TimeSpan.FromSeconds(20)); // a model crossed the wire: the association is up
        Assert.Equal(0, v0.Version);

        var remoteAggregator = ((ExtendedActorSystem)_peer).Provider.ResolveActorRef(aggregator.Path.ToStringWithAddress(nodeAddress));
        long droppedBefore = ParameterServerSerializer.Dropped;
        var rng = new Random(7);
        var garbage = new byte[4096];
        rng.NextBytes(garbage);
        remoteAggregator.Tell(new RawMessage(ParameterServerSerializer.UpdateManifest, garbage), worker);                                  // garbage
        remoteAggregator.Tell(new RawMessage(ParameterServerSerializer.UpdateManifest, [1, 2, 3]), worker);                               // truncated
        remoteAggregator.Tell(new RawMessage(ParameterServerSerializer.UpdateManifest, UpdateBytes(0, 0, Payload(110_000, 1f))), worker); // over max-elements
        remoteAggregator.Tell(new WorkerUpdate(0, 0, Payload(200_000, 1f), 0), worker);   // over the frame size: Akka drops it at the sender
        remoteAggregator.Tell(new WorkerUpdate(1, 0, Payload(10, float.NaN), 0), worker); // NaN-filled: worker 1 has reported, the round does not wait for it
        remoteAggregator.Tell(new WorkerUpdate(0, 0, Payload(7, 1f), 0), worker);         // wrong size
        remoteAggregator.Tell(new WorkerUpdate(0, 0, Payload(10, 1f), 0), worker);        // the honest one, after all of that

        var stats = await finished.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, stats.Steps);
        Assert.Equal(1, stats.UpdatesApplied);
        Assert.Equal(1, stats.UpdatesDropped["non_finite"]);
        Assert.Equal(1, stats.UpdatesDropped["malformed"]);
        Assert.True(ParameterServerSerializer.Dropped - droppedBefore >= 3, $"serializer drops: {ParameterServerSerializer.Dropped - droppedBefore}");
        Assert.False(_node.WhenTerminated.IsCompleted);
        using var x = server.Parameters.clone();
        Assert.Equal(-0.1f, x.data<float>()[0], 5);
    }

    private static void Ignore(EvaluateSnapshot _)
    {
    }

    private static TensorPayload Payload(int n, float value)
    {
        using var t = torch.full(n, value);
        return TensorPayload.FromTensor(t);
    }

    private static byte[] UpdateBytes(int worker, long version, TensorPayload p)
    {
        var payload = p.Encode();
        var bytes = new byte[20 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, worker);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4), version);
        payload.CopyTo(bytes, 20);
        return bytes;
    }

    private sealed class Capture<T> : ReceiveActor
    {
        public Capture(Action<T> on) => Receive<T>(on);
    }
}

/// <summary>A learning message as a hostile peer writes it: any bytes under the real serializer's id and manifest.</summary>
public sealed record RawMessage(string Manifest, byte[] Bytes);

/// <summary>The peer's stand-in for <see cref="ParameterServerSerializer"/> (same id): real messages as usual, <see cref="RawMessage"/> verbatim.</summary>
public sealed class RawParameterServerSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private readonly ParameterServerSerializer _real = new(system);

    public override int Identifier => ParameterServerSerializer.Id;

    public override string Manifest(object o) => o is RawMessage r ? r.Manifest : _real.Manifest(o);

    public override byte[] ToBinary(object obj) => obj is RawMessage r ? r.Bytes : _real.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest) => _real.FromBinary(bytes, manifest);
}

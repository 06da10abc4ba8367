using Actors.Learning.Wire;
using Actors.Runtime.Cluster;
using Actors.Runtime.Gossip;
using Akka.Actor;
using Akka.Serialization;
using TorchSharp;
using static Actors.Runtime.Cluster.ClusterProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Tests.Cluster;

public sealed class ClusterProtocolSpec : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("actors", ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"],
            Environment = new Dictionary<string, string?>(),
            Overrides = ["akka.actor.provider=remote", "akka.loglevel=ERROR"],
        }));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _system.Terminate();

    public static TheoryData<string> Messages => [.. Samples(ActorRefs.Nobody).Keys];

    private static Dictionary<string, object> Samples(IActorRef r)
    {
        var stats = new ClusterStats(3, 6, 1.5, ["stale", "malformed"], [1, 2], 0.5, 1, [0, 1], [5, 1], [3, 3], [0, 1]);
        object[] all =
        [
            new SubmitRun("experiment { steps = 3 }"), new RunAccepted("1", "a", ["b <- workers 0"]), new RunRejected("no"),
            new HostAggregator("1", "x", r, r, 0, null), new HostAggregator("1", "x", r, r, 20, [1, 2, 3]),
            new AggregatorReady("1", r, r, "synthetic", 330), new HostWorkers("1", "x", [0, 2], r, r, ["akka.tcp://actors@h:1/user/node/workers-1/worker-3"]), new WorkersReady("1", [0, 2], ["p0", "p2"]),
            new StartRun("1", ["p0", "p1"], [1]), new LoseWorkers("1", [1], "n"), new WorkersCrashed("1", new CrashEvent(5, [1, 3], "n")),
            new ClusterEvaluation(1, 2, 3, 4, 5, 6, 7, 0.5, 0.9, true, [0.9, 12]), new RunNotice("1", "node lost"), new AggregatorFinished("1", stats),
            new RunCompleted("1", stats, [new CrashEvent(5, [1], "n")], [20], "synthetic", 330), new NodeFailed("1", "boom"), new EndRun("1"),
            new CheckpointChunk("1", 20, 0, 1, [9, 9]), new Rewire("1", r),
            new ModelBroadcast(4, TensorPayload.FromTensor(torch.ones(5)), true), new WorkerUpdate(1, 4, TensorPayload.FromTensor(torch.ones(5)), 20),
            new HonestTap(2, 7, TensorPayload.FromTensor(torch.arange(5, dtype: torch.float32))),
            new RunQueued("2", 1, "1"), new RunStep("1", 40), new StatusQuery(),
            new ClusterStatus([new MemberInfo("akka.tcp://actors@h:1", ["seed", "worker"], "Up", true)], [new RunInfo("1", "a", "running", 20, 100, "")]),
            new ClusterGossipEvaluation(1, 2, 3, 4, 5, 6, 7, 0.5, 0.9, 1e-3, true, 1e-9, 7, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false),
            new GossipHostFinished("1", 10, 80, 1.5, 1, 1, [3]), new GossipRunCompleted("1", 10, 80, 1.5, 0, 0, [1, 3], [new CrashEvent(5, [1, 3], "n")], "synthetic", 9),
        ];
        return all.Select((m, i) => (m, i)).ToDictionary(p => $"{p.m.GetType().Name}#{p.i}", p => p.m);
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_cross_node_message_round_trips_through_its_bound_serializer(string name)
    {
        var message = Samples(_system.DeadLetters)[name];
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsNotType<NewtonSoftJsonSerializer>(serializer);
        var bytes = serializer.ToBinary(message);
        var back = serializer is SerializerWithStringManifest s
            ? s.FromBinary(bytes, s.Manifest(message))
            : serializer.FromBinary(bytes, message.GetType());
        Assert.IsType(message.GetType(), back);
        if (message is HonestTap tap)
        {
            var copy = (HonestTap)back;
            Assert.Equal((tap.WorkerId, tap.Version), (copy.WorkerId, copy.Version));
            using var a = tap.Update.ToTensor();
            using var b = copy.Update.ToTensor();
            Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        }
        if (message is not (ModelBroadcast or WorkerUpdate or HonestTap)) Assert.Equal(Json(message), Json(back));
    }

    [Fact]
    public void Checkpoint_chunks_reassemble_and_a_newer_version_replaces_an_unfinished_one()
    {
        var model = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        var chunks = CheckpointChunk.Split("1", 40, model).ToList();
        Assert.Equal(3, chunks.Count);
        var assembly = new CheckpointAssembly();
        Assert.Null(assembly.Add(CheckpointChunk.Split("1", 20, model).First())); // an older, unfinished checkpoint
        Assert.Null(assembly.Add(chunks[2]));
        Assert.Null(assembly.Add(chunks[0]));
        Assert.Equal(model, assembly.Add(chunks[1]));
    }

    private static AggregatorCounters SampleCounters() => new(40, 120, 9_000, 4_000, 16_000,
        new Dictionary<string, long> { ["stale"] = 3, ["non_finite"] = 1 }, new SortedDictionary<long, long> { [0] = 37, [2] = 3 }, [20, 20], [1, 3]);

    [Fact]
    public void A_checkpoint_blob_carries_the_state_and_the_totals()
    {
        using var state = torch.tensor(new[] { 1f, -2f, 3f });
        var (bytes, counters) = CheckpointBlob.Decode(CheckpointBlob.Encode(TensorPayload.FromTensor(state), SampleCounters()));
        using (var back = TensorPayload.Decode(bytes).ToTensor()) Assert.Equal(new[] { 1f, -2f, 3f }, back.data<float>().ToArray());
        Assert.Equal(40, counters.UpdatesApplied);
        Assert.Equal((120L, 9_000L, 4_000L, 16_000L), (counters.MessagesSent, counters.BytesSent, counters.BytesUplink, counters.BytesUplinkUncompressed));
        Assert.Equal(3, counters.Drops["stale"]);
        Assert.Equal(3, counters.Staleness[2]);
        Assert.Equal([1L, 3L], counters.Dropped);
    }

    [Fact]
    public void A_malformed_checkpoint_blob_is_a_serialization_error()
    {
        using var state = torch.tensor(new[] { 1f });
        var good = CheckpointBlob.Encode(TensorPayload.FromTensor(state), SampleCounters());
        var lying = (byte[])good.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(lying.AsSpan(4), good.Length);
        var garbled = (byte[])good.Clone();
        garbled[8] = (byte)'x'; // inside the JSON
        foreach (var bad in new[] { [], good[..3], [.. "XXXX"u8, .. good[4..]], lying, garbled, good[..12] })
            Assert.Throws<System.Runtime.Serialization.SerializationException>(() => CheckpointBlob.Decode(bad));
    }

    [Fact]
    public void Gossip_messages_round_trip_through_their_serializer_and_garbage_is_refused()
    {
        var serializer = (GossipSerializer)_system.Serialization.FindSerializerFor(new GossipProtocol.StepDone(1, 2));
        T Trip<T>(T message) => (T)serializer.FromBinary(serializer.ToBinary(message!), serializer.Manifest(message!));
        var row = new Actors.Learning.Gossip.MixingRow(3, 0.25, [(2, 0.5), (4, 0.25)], [2, 4], true);
        void SameRow(Actors.Learning.Gossip.MixingRow a, Actors.Learning.Gossip.MixingRow b)
        {
            Assert.Equal((a.Node, a.SelfWeight, a.IsUp), (b.Node, b.SelfWeight, b.IsUp));
            Assert.Equal(a.InNeighbors, b.InNeighbors);
            Assert.Equal(a.OutNeighbors, b.OutNeighbors);
        }
        var begin = Trip(new GossipProtocol.BeginStep(7, row));
        Assert.Equal(7, begin.Step);
        SameRow(row, begin.Row);
        SameRow(row, Trip(new GossipProtocol.Neighbours(8, row)).Row);
        SameRow(row, Trip(new GossipProtocol.Replan(9, row)).Row);
        Assert.Equal(new GossipProtocol.Availability(4, false), Trip(new GossipProtocol.Availability(4, false)));
        Assert.Equal(new GossipProtocol.StepDone(3, 11), Trip(new GossipProtocol.StepDone(3, 11)));
        Assert.Equal(new GossipProtocol.LocalStepDone(5), Trip(new GossipProtocol.LocalStepDone(5)));
        var request = Trip(new GossipProtocol.SnapshotRequest(12, _system.DeadLetters));
        Assert.Equal(12, request.Step);

        using var dense = torch.arange(6, dtype: torch.float32);
        var packet = new GossipProtocol.PeerPacket(1, 2, 13, Actors.Learning.Gossip.GossipMessageKind.Projection, 4, null,
            [TensorPayload.FromTensor(dense), TensorPayload.FromTensor(dense.neg())]) { WireBytes = 48 };
        var back = Trip(packet);
        Assert.Equal((1, 2, 13L, Actors.Learning.Gossip.GossipMessageKind.Projection, 4L, 48L), (back.From, back.To, back.Step, back.Kind, back.Sequence, back.WireBytes));
        Assert.Null(back.Compressed);
        Assert.Equal(2, back.Dense.Count);
        using (var second = back.Dense[1].ToTensor()) Assert.Equal(new float[] { 0, -1, -2, -3, -4, -5 }, second.data<float>().ToArray());

        var counters = new GossipProtocol.PeerCounters(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        var snapshot = Trip(new GossipProtocol.PeerSnapshot(6, 14, TensorPayload.FromTensor(dense), counters));
        Assert.Equal((6, 14L, counters), (snapshot.Node, snapshot.Step, snapshot.Counters));
        using (var model = snapshot.Model.ToTensor()) Assert.Equal(dense.data<float>().ToArray(), model.data<float>().ToArray());

        var good = serializer.ToBinary(packet);
        foreach (var bad in new[] { [], good[..10], good[..^1], [.. good, 0], Enumerable.Repeat((byte)0xFF, 64).ToArray() })
            Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(bad, GossipSerializer.PacketManifest));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(good, "nope"));
    }

    [Fact]
    public void Byzantine_ids_continue_the_round_robin_over_worker_nodes_or_go_to_byzantine_nodes_when_there_are_any()
    {
        Address a = new("akka.tcp", "actors", "a", 1), b = new("akka.tcp", "actors", "b", 1), c = new("akka.tcp", "actors", "c", 1);
        var dealt = ClusterCoordinator.Place(4, 2, [a, b], []);
        Assert.Equal([0, 2, 4], dealt[a]);
        Assert.Equal([1, 3, 5], dealt[b]);
        var apart = ClusterCoordinator.Place(4, 3, [a, b], [c]);
        Assert.Equal([0, 2], apart[a]);
        Assert.Equal([1, 3], apart[b]);
        Assert.Equal([4, 5, 6], apart[c]);
        Assert.Equal("akka.tcp://actors@c:1/user/node/workers-7-120000/worker-5", ClusterProtocol.WorkerPath(c, "7-120000", 5));
    }

    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new() { Converters = { new ActorRefAsPath() } };

    private static string Json(object o) => System.Text.Json.JsonSerializer.Serialize(o, o.GetType(), JsonOptions);

    private sealed class ActorRefAsPath : System.Text.Json.Serialization.JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
            throw new NotSupportedException();

        public override void Write(System.Text.Json.Utf8JsonWriter writer, IActorRef value, System.Text.Json.JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Path.ToString());
    }
}

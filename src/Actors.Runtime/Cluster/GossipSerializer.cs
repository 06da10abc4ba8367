using System.Runtime.Serialization;
using Actors.Learning.Gossip;
using Actors.Learning.Wire;
using Akka.Actor;
using Akka.Serialization;
using static Actors.Runtime.Gossip.GossipProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// Wire format of the gossip messages between nodes: the topology actor's steps and rows, the peers' step reports, their
/// packets (tensors as <see cref="TensorPayload"/> bytes) and snapshots. Little-endian fields, a count before every list;
/// malformed input (garbage, a list or payload beyond its limit) throws <see cref="SerializationException"/>, so Akka drops
/// that message and keeps the association.
/// </summary>
public sealed class GossipSerializer : SerializerWithStringManifest
{
    public const int Id = 4103;
    public const string BeginStepManifest = "gb1", NeighboursManifest = "gn1", AvailabilityManifest = "ga1", StepDoneManifest = "gd1",
        LocalStepDoneManifest = "gl1", SnapshotRequestManifest = "gq1", SnapshotManifest = "gs1", PacketManifest = "gp1", ReplanManifest = "gr1";
    private const int MaxList = 1 << 20;
    private readonly ExtendedActorSystem _system;

    public GossipSerializer(ExtendedActorSystem system) : base(system)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;
        var config = system.Settings.Config;
        MaxElements = config.HasPath("actors.tensor-payload.max-elements") ? config.GetLong("actors.tensor-payload.max-elements") : PayloadFormat.MaxElements;
    }

    public long MaxElements { get; }

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        BeginStep => BeginStepManifest,
        Neighbours => NeighboursManifest,
        Availability => AvailabilityManifest,
        StepDone => StepDoneManifest,
        LocalStepDone => LocalStepDoneManifest,
        SnapshotRequest => SnapshotRequestManifest,
        PeerSnapshot => SnapshotManifest,
        PeerPacket => PacketManifest,
        Replan => ReplanManifest,
        _ => throw new ArgumentException($"{nameof(GossipSerializer)} cannot serialize {o?.GetType().FullName ?? "null"}", nameof(o)),
    };

    public override byte[] ToBinary(object obj) => Encode(obj);

    public override object FromBinary(byte[] bytes, string manifest) => Decode(bytes, manifest, MaxElements, _system);

    /// <summary>The wire bytes of a gossip message (also what the bulk side channel carries for big packets and snapshots).</summary>
    public static byte[] Encode(object obj)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            switch (obj)
            {
                case BeginStep b:
                    w.Write(b.Step);
                    WriteRow(w, b.Row);
                    break;
                case Neighbours n:
                    w.Write(n.Step);
                    WriteRow(w, n.Row);
                    break;
                case Replan r:
                    w.Write(r.Step);
                    WriteRow(w, r.Row);
                    break;
                case Availability a:
                    w.Write(a.Step);
                    w.Write(a.Up);
                    break;
                case StepDone d:
                    w.Write(d.Node);
                    w.Write(d.Step);
                    break;
                case LocalStepDone l:
                    w.Write(l.Node);
                    break;
                case SnapshotRequest q:
                    w.Write(q.Step);
                    w.Write(Akka.Serialization.Serialization.SerializedActorPath(q.ReplyTo));
                    break;
                case PeerSnapshot s:
                    w.Write(s.Node);
                    w.Write(s.Step);
                    var c = s.Counters;
                    foreach (var v in new[] { c.LocalSteps, c.MessagesSent, c.BytesSent, c.Exchanges, c.Dropped, c.Duplicates, c.Stale, c.BrokenCopies, c.ResyncsApplied, c.EdgeResets })
                        w.Write(v);
                    WritePayload(w, s.Model);
                    break;
                case PeerPacket p:
                    w.Write(p.From);
                    w.Write(p.To);
                    w.Write(p.Step);
                    w.Write((int)p.Kind);
                    w.Write(p.Sequence);
                    w.Write(p.WireBytes);
                    w.Write(p.Compressed is not null);
                    if (p.Compressed is { } compressed) WritePayload(w, compressed);
                    w.Write(p.Dense.Count);
                    foreach (var d in p.Dense) WritePayload(w, d);
                    break;
                default:
                    throw new ArgumentException($"{nameof(GossipSerializer)} cannot serialize {obj?.GetType().FullName ?? "null"}", nameof(obj));
            }
        }
        return stream.ToArray();
    }

    /// <summary>Decodes <see cref="Encode"/>'s bytes; malformed input throws <see cref="SerializationException"/>.</summary>
    public static object Decode(byte[] bytes, string manifest, long maxElements, ExtendedActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
            object message = manifest switch
            {
                BeginStepManifest => new BeginStep(r.ReadInt64(), ReadRow(r)),
                NeighboursManifest => new Neighbours(r.ReadInt64(), ReadRow(r)),
                ReplanManifest => new Replan(r.ReadInt64(), ReadRow(r)),
                AvailabilityManifest => new Availability(r.ReadInt64(), r.ReadBoolean()),
                StepDoneManifest => new StepDone(r.ReadInt32(), r.ReadInt64()),
                LocalStepDoneManifest => new LocalStepDone(r.ReadInt32()),
                SnapshotRequestManifest => new SnapshotRequest(r.ReadInt64(), system.Provider.ResolveActorRef(r.ReadString())),
                SnapshotManifest => ReadSnapshot(r, maxElements),
                PacketManifest => ReadPacket(r, maxElements),
                _ => throw new SerializationException($"{nameof(GossipSerializer)}: bad manifest '{manifest}'"),
            };
            if (r.BaseStream.Position != bytes.Length) throw new SerializationException($"{bytes.Length - r.BaseStream.Position} trailing bytes");
            return message;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not SerializationException)
        {
            throw new SerializationException($"{nameof(GossipSerializer)}: malformed {manifest}: {e.Message}", e);
        }
    }

    private static PeerSnapshot ReadSnapshot(BinaryReader r, long maxElements)
    {
        int node = r.ReadInt32();
        long step = r.ReadInt64();
        var v = new long[10];
        for (int i = 0; i < v.Length; i++) v[i] = r.ReadInt64();
        var counters = new PeerCounters(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
        return new PeerSnapshot(node, step, ReadPayload(r, maxElements), counters);
    }

    private static PeerPacket ReadPacket(BinaryReader r, long maxElements)
    {
        int from = r.ReadInt32(), to = r.ReadInt32();
        long step = r.ReadInt64();
        int kind = r.ReadInt32();
        if (!Enum.IsDefined(typeof(GossipMessageKind), kind)) throw new SerializationException($"unknown gossip message kind {kind}");
        long sequence = r.ReadInt64(), wireBytes = r.ReadInt64();
        var compressed = r.ReadBoolean() ? ReadPayload(r, maxElements) : null;
        int count = Count(r);
        var dense = new TensorPayload[count];
        for (int i = 0; i < count; i++) dense[i] = ReadPayload(r, maxElements);
        return new PeerPacket(from, to, step, (GossipMessageKind)kind, sequence, compressed, dense) { WireBytes = wireBytes };
    }

    private static void WriteRow(BinaryWriter w, MixingRow row)
    {
        w.Write(row.Node);
        w.Write(row.SelfWeight);
        w.Write(row.IsUp);
        w.Write(row.InNeighbors.Count);
        foreach (var (neighbor, weight) in row.InNeighbors)
        {
            w.Write(neighbor);
            w.Write(weight);
        }
        w.Write(row.OutNeighbors.Count);
        foreach (var o in row.OutNeighbors) w.Write(o);
    }

    private static MixingRow ReadRow(BinaryReader r)
    {
        int node = r.ReadInt32();
        double self = r.ReadDouble();
        bool up = r.ReadBoolean();
        var ins = new (int, double)[Count(r)];
        for (int i = 0; i < ins.Length; i++) ins[i] = (r.ReadInt32(), r.ReadDouble());
        var outs = new int[Count(r)];
        for (int i = 0; i < outs.Length; i++) outs[i] = r.ReadInt32();
        return new MixingRow(node, self, ins, outs, up);
    }

    private static void WritePayload(BinaryWriter w, TensorPayload payload)
    {
        var bytes = payload.Encode();
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static TensorPayload ReadPayload(BinaryReader r, long maxElements)
    {
        int length = r.ReadInt32();
        if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position) throw new SerializationException($"payload length {length} beyond the message");
        return TensorPayload.Decode(r.ReadBytes(length), maxElements);
    }

    private static int Count(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > MaxList) throw new SerializationException($"list of {n} entries");
        return n;
    }
}

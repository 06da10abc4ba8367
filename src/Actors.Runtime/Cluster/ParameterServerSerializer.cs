using System.Buffers.Binary;
using System.Runtime.Serialization;
using Actors.Learning.Wire;
using Akka.Actor;
using Akka.Serialization;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// Wire format of the learning messages between nodes (<see cref="ModelBroadcast"/>, <see cref="WorkerUpdate"/>, and the omniscient
/// attackers' <see cref="HonestTap"/>): a small fixed
/// header and the <see cref="TensorPayload"/> bytes as they are. Malformed input (garbage, a payload beyond
/// <c>actors.tensor-payload.max-elements</c>) throws <see cref="SerializationException"/>: Akka drops that message, counts
/// nothing itself, and keeps the association; <see cref="Dropped"/> counts it here.
/// </summary>
public sealed class ParameterServerSerializer : SerializerWithStringManifest
{
    public const int Id = 4102;
    public const string BroadcastManifest = "mb1", UpdateManifest = "wu1", TapManifest = "ht1";
    private static long _dropped;

    public ParameterServerSerializer(ExtendedActorSystem system) : base(system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var config = system.Settings.Config;
        MaxElements = config.HasPath("actors.tensor-payload.max-elements") ? config.GetLong("actors.tensor-payload.max-elements") : PayloadFormat.MaxElements;
    }

    /// <summary>Incoming learning messages dropped as malformed, in this process.</summary>
    public static long Dropped => Interlocked.Read(ref _dropped);

    public long MaxElements { get; }

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        ModelBroadcast => BroadcastManifest,
        WorkerUpdate => UpdateManifest,
        HonestTap => TapManifest,
        _ => throw new ArgumentException($"{nameof(ParameterServerSerializer)} cannot serialize {o?.GetType().FullName ?? "null"}", nameof(o)),
    };

    public override byte[] ToBinary(object obj) => Encode(obj);

    /// <summary>The wire bytes of a <see cref="ModelBroadcast"/> or <see cref="WorkerUpdate"/> (also what the bulk side channel carries).</summary>
    public static byte[] Encode(object obj)
    {
        switch (obj)
        {
            case ModelBroadcast m:
            {
                var payload = m.Model.Encode();
                var bytes = new byte[9 + payload.Length];
                BinaryPrimitives.WriteInt64LittleEndian(bytes, m.Version);
                bytes[8] = m.IsDelta ? (byte)1 : (byte)0;
                payload.CopyTo(bytes, 9);
                return bytes;
            }
            case WorkerUpdate u:
            {
                var payload = u.Update.Encode();
                var bytes = new byte[20 + payload.Length];
                BinaryPrimitives.WriteInt32LittleEndian(bytes, u.WorkerId);
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4), u.Version);
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(12), u.UncompressedBytes);
                payload.CopyTo(bytes, 20);
                return bytes;
            }
            case HonestTap t:
            {
                var payload = t.Update.Encode();
                var bytes = new byte[12 + payload.Length];
                BinaryPrimitives.WriteInt32LittleEndian(bytes, t.WorkerId);
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4), t.Version);
                payload.CopyTo(bytes, 12);
                return bytes;
            }
            default:
                throw new ArgumentException($"{nameof(ParameterServerSerializer)} cannot serialize {obj?.GetType().FullName ?? "null"}", nameof(obj));
        }
    }

    public override object FromBinary(byte[] bytes, string manifest) => Decode(bytes, manifest, MaxElements);

    /// <summary>Decodes <see cref="Encode"/>'s bytes; malformed input is counted in <see cref="Dropped"/> and throws <see cref="SerializationException"/>.</summary>
    public static object Decode(byte[] bytes, string manifest, long maxElements)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            return manifest switch
            {
                BroadcastManifest when bytes.Length >= 9 && bytes[8] <= 1 => new ModelBroadcast(
                    BinaryPrimitives.ReadInt64LittleEndian(bytes), TensorPayload.Decode(bytes[9..], maxElements), bytes[8] == 1),
                UpdateManifest when bytes.Length >= 20 => new WorkerUpdate(
                    BinaryPrimitives.ReadInt32LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(4)),
                    TensorPayload.Decode(bytes[20..], maxElements), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(12))),
                TapManifest when bytes.Length >= 12 => new HonestTap(
                    BinaryPrimitives.ReadInt32LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(4)), TensorPayload.Decode(bytes[12..], maxElements)),
                _ => throw new SerializationException($"{nameof(ParameterServerSerializer)}: bad manifest '{manifest}' or short message ({bytes.Length} bytes)"),
            };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Increment(ref _dropped);
            throw e as SerializationException ?? new SerializationException($"{nameof(ParameterServerSerializer)}: malformed {manifest}: {e.Message}", e);
        }
    }
}

using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text.Json;
using Actors.Learning.Wire;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// The bytes of an aggregator checkpoint as the coordinator keeps them (in <see cref="CheckpointChunk"/>s):
/// <c>"ACK1"</c>, the UTF-8 JSON length (int32 LE), the run's totals as JSON, then the server state's TensorPayload bytes.
/// Anything else throws <see cref="SerializationException"/>.
/// </summary>
public static class CheckpointBlob
{
    private static ReadOnlySpan<byte> Magic => "ACK1"u8;

    public static byte[] Encode(TensorPayload state, AggregatorCounters counters)
    {
        ArgumentNullException.ThrowIfNull(state);
        var json = JsonSerializer.SerializeToUtf8Bytes(counters);
        var model = state.Encode();
        var blob = new byte[Magic.Length + 4 + json.Length + model.Length];
        Magic.CopyTo(blob);
        BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(Magic.Length), json.Length);
        json.CopyTo(blob, Magic.Length + 4);
        model.CopyTo(blob, Magic.Length + 4 + json.Length);
        return blob;
    }

    /// <summary>The server state's payload bytes and the totals.</summary>
    public static (byte[] State, AggregatorCounters Counters) Decode(byte[] blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        int head = Magic.Length + 4;
        if (blob.Length < head || !blob.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new SerializationException("malformed aggregator checkpoint: missing its header");
        int jsonLength = BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(Magic.Length));
        if (jsonLength < 0 || jsonLength > blob.Length - head)
            throw new SerializationException($"malformed aggregator checkpoint: counters length {jsonLength} does not fit in {blob.Length} bytes");
        AggregatorCounters? counters;
        try
        {
            counters = JsonSerializer.Deserialize<AggregatorCounters>(blob.AsSpan(head, jsonLength));
        }
        catch (JsonException e)
        {
            throw new SerializationException($"malformed aggregator checkpoint: {e.Message}", e);
        }
        if (counters?.Drops is null || counters.Staleness is null || counters.Accepted is null || counters.Dropped is null)
            throw new SerializationException("malformed aggregator checkpoint: incomplete counters");
        return (blob[(head + jsonLength)..], counters);
    }
}

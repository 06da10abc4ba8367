using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace Actors.Runtime.Transport;

/// <summary>
/// Compact binary format for the side channel's Akka messages (<see cref="IBulkTransportMessage"/>).
/// Malformed input throws <see cref="SerializationException"/>, which drops the message and keeps the association.
/// </summary>
public sealed class BulkTransportSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id on the wire; unique among this project's serializers.</summary>
    public const int Id = 7401;

    private const string HandleManifest = "H";
    private const string EndpointManifest = "E";
    private const string GetEndpointManifest = "Q";
    private const string DeliveredManifest = "D";
    private const int MaxHostBytes = 1024;

    public BulkTransportSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        BulkHandle => HandleManifest,
        BulkEndpoint => EndpointManifest,
        GetBulkEndpoint => GetEndpointManifest,
        BulkDelivered => DeliveredManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not a bulk transport message", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        switch (obj)
        {
            case BulkHandle h:
            {
                var buffer = new byte[EndpointSize(h.Endpoint) + 16 + 8 + 1];
                var at = WriteEndpoint(buffer, h.Endpoint);
                h.TransferId.TryWriteBytes(buffer.AsSpan(at, 16));
                BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(at + 16), h.Size);
                buffer[at + 24] = h.Codec;
                return buffer;
            }

            case BulkEndpoint e:
            {
                var buffer = new byte[EndpointSize(e)];
                WriteEndpoint(buffer, e);
                return buffer;
            }

            case GetBulkEndpoint:
                return [];

            case BulkDelivered d:
            {
                var buffer = new byte[24];
                d.TransferId.TryWriteBytes(buffer);
                BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(16), d.Size);
                return buffer;
            }

            default:
                throw new ArgumentException($"{obj.GetType()} is not a bulk transport message", nameof(obj));
        }
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            var span = bytes.AsSpan();
            switch (manifest)
            {
                case HandleManifest:
                {
                    var endpoint = ReadEndpoint(span, out var at);
                    Require(span.Length == at + 25, manifest);
                    var size = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 16)..]);
                    Require(size >= 0, manifest);
                    return new BulkHandle(endpoint, new Guid(span.Slice(at, 16)), size, span[at + 24]);
                }

                case EndpointManifest:
                {
                    var endpoint = ReadEndpoint(span, out var at);
                    Require(span.Length == at, manifest);
                    return endpoint;
                }

                case GetEndpointManifest:
                    Require(span.Length == 0, manifest);
                    return GetBulkEndpoint.Instance;

                case DeliveredManifest:
                    Require(span.Length == 24, manifest);
                    return new BulkDelivered(new Guid(span[..16]), BinaryPrimitives.ReadInt64LittleEndian(span[16..]));

                default:
                    throw new SerializationException($"unknown bulk transport manifest '{manifest}'");
            }
        }
        catch (Exception e) when (e is ArgumentException or DecoderFallbackException)
        {
            throw new SerializationException($"malformed bulk transport message '{manifest}' ({bytes.Length} B)", e);
        }
    }

    private static int EndpointSize(BulkEndpoint e) => 2 + Encoding.UTF8.GetByteCount(e.Host) + 4;

    private static int WriteEndpoint(Span<byte> buffer, BulkEndpoint e)
    {
        var hostBytes = Encoding.UTF8.GetBytes(e.Host, buffer[2..]);
        if (hostBytes > MaxHostBytes)
        {
            throw new ArgumentException($"bulk endpoint host longer than {MaxHostBytes} B");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)hostBytes);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[(2 + hostBytes)..], e.Port);
        return 2 + hostBytes + 4;
    }

    private static BulkEndpoint ReadEndpoint(ReadOnlySpan<byte> span, out int end)
    {
        Require(span.Length >= 6, "endpoint");
        int hostBytes = BinaryPrimitives.ReadUInt16LittleEndian(span);
        Require(hostBytes is > 0 and <= MaxHostBytes && span.Length >= 2 + hostBytes + 4, "endpoint");
        var host = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(span.Slice(2, hostBytes));
        var port = BinaryPrimitives.ReadInt32LittleEndian(span[(2 + hostBytes)..]);
        Require(port is > 0 and <= 65535, "endpoint");
        end = 2 + hostBytes + 4;
        return new BulkEndpoint(host, port);
    }

    private static void Require(bool ok, string what)
    {
        if (!ok)
        {
            throw new SerializationException($"malformed bulk transport message ({what})");
        }
    }
}

using System.Runtime.Serialization;
using Actors.Learning.Wire;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace Actors.Runtime.Serialization;

/// <summary>
/// Akka serializer for <see cref="TensorPayload"/>: the payload already is its wire bytes, so this only delegates.
/// Malformed input throws <see cref="SerializationException"/> (Akka drops that message and keeps the association).
/// <c>actors.tensor-payload.max-elements</c> bounds the decompressed size a peer may announce.
/// </summary>
public sealed class TensorPayloadSerializer : SerializerWithStringManifest
{
    public const int Id = 4101;
    public const string PayloadManifest = "tp1";

    /// <summary>Registers the serializer and binds <see cref="TensorPayload"/> to it.</summary>
    public static readonly Config Hocon = ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers { tensor-payload = "{{typeof(TensorPayloadSerializer).AssemblyQualifiedShortName()}}" }
          serialization-bindings { "{{typeof(TensorPayload).AssemblyQualifiedShortName()}}" = tensor-payload }
          serialization-identifiers { "{{typeof(TensorPayloadSerializer).AssemblyQualifiedShortName()}}" = {{Id}} }
        }
        actors.tensor-payload.max-elements = {{PayloadFormat.MaxElements}}
        """);

    public TensorPayloadSerializer(ExtendedActorSystem system) : base(system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var config = system.Settings.Config;
        MaxElements = config.HasPath("actors.tensor-payload.max-elements")
            ? config.GetLong("actors.tensor-payload.max-elements")
            : PayloadFormat.MaxElements;
    }

    public long MaxElements { get; }

    public override int Identifier => Id;

    public override byte[] ToBinary(object obj) => obj is TensorPayload payload
        ? payload.Encode()
        : throw new ArgumentException($"{nameof(TensorPayloadSerializer)} cannot serialize {obj?.GetType().FullName ?? "null"}", nameof(obj));

    public override string Manifest(object o) => o is TensorPayload
        ? PayloadManifest
        : throw new ArgumentException($"{nameof(TensorPayloadSerializer)} has no manifest for {o?.GetType().FullName ?? "null"}", nameof(o));

    public override object FromBinary(byte[] bytes, string manifest) => manifest == PayloadManifest
        ? TensorPayload.Decode(bytes, MaxElements)
        : throw new SerializationException($"{nameof(TensorPayloadSerializer)}: unknown manifest '{manifest}'");
}

internal static class TypeNames
{
    /// <summary>"Namespace.Type, Assembly": what Akka's HOCON type bindings expect.</summary>
    public static string AssemblyQualifiedShortName(this Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}

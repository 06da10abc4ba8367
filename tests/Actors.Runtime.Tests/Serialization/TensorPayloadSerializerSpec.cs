using System.Runtime.Serialization;
using Actors.Learning.Compression;
using Actors.Learning.Wire;
using Actors.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using TorchSharp;

namespace Actors.Runtime.Tests.Serialization;

public sealed class TensorPayloadSerializerSpec : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-spec",
        ConfigurationFactory.ParseString("actors.tensor-payload.max-elements = 1000").WithFallback(TensorPayloadSerializer.Hocon));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private static TensorPayload Payload()
    {
        using var x = torch.tensor(new[] { 1f, -2f, 3f, 0.5f });
        using var c = new TopK(0.5).Compress(x, new CompressionContext(0, 1));
        return TensorPayload.FromCompressed(c);
    }

    [Fact]
    public void TensorPayload_is_bound_to_its_serializer_and_round_trips()
    {
        var payload = Payload();
        var serializer = _system.Serialization.FindSerializerFor(payload);
        var typed = Assert.IsType<TensorPayloadSerializer>(serializer);
        Assert.Equal(TensorPayloadSerializer.Id, serializer.Identifier);
        var bytes = serializer.ToBinary(payload);
        Assert.Equal(payload.SizeBytes, bytes.Length);
        var back = Assert.IsType<TensorPayload>(_system.Serialization.Deserialize(bytes, serializer.Identifier, typed.Manifest(payload)));
        using var expected = payload.ToTensor();
        using var actual = back.ToTensor();
        Assert.True(expected.equal(actual).all().item<bool>());
    }

    [Fact]
    public void Malformed_bytes_and_unknown_manifests_throw_SerializationException()
    {
        var serializer = (TensorPayloadSerializer)_system.Serialization.FindSerializerFor(Payload());
        var bytes = Payload().Encode();
        Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..^2], TensorPayloadSerializer.PayloadManifest));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "nope"));
        // A payload announcing more values than the configured bound is refused before anything is allocated.
        using var big = torch.zeros(2000);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(TensorPayload.FromTensor(big).Encode(), TensorPayloadSerializer.PayloadManifest));
    }
}

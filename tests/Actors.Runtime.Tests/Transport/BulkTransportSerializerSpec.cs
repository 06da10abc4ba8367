using System.Runtime.Serialization;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace Actors.Runtime.Tests.Transport;

public sealed class BulkTransportSerializerSpec : TestKit
{
    public BulkTransportSerializerSpec()
        : base(BulkTransportSettings.AkkaConfig)
    {
    }

    [Fact]
    public void Handles_and_control_messages_round_trip_through_the_bound_serializer()
    {
        var endpoint = new BulkEndpoint("node-a.example", 41000);
        object[] messages =
        [
            new BulkHandle(endpoint, Guid.NewGuid(), 25L << 20, 3),
            endpoint,
            GetBulkEndpoint.Instance,
            new BulkDelivered(Guid.NewGuid(), 123),
        ];
        foreach (var message in messages)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.IsType<BulkTransportSerializer>(serializer);
            var manifest = ((BulkTransportSerializer)serializer).Manifest(message);
            Assert.Equal(message, ((BulkTransportSerializer)serializer).FromBinary(serializer.ToBinary(message), manifest));
        }
    }

    [Theory]
    [InlineData("H", new byte[] { 1, 2, 3 })]
    [InlineData("E", new byte[] { 200, 0, 65, 65 })]
    [InlineData("Q", new byte[] { 1 })]
    [InlineData("D", new byte[] { 1, 2 })]
    [InlineData("?", new byte[0])]
    public void Malformed_input_throws_SerializationException(string manifest, byte[] bytes)
    {
        var serializer = new BulkTransportSerializer((ExtendedActorSystem)Sys);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, manifest));
    }
}

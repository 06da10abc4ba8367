using Actors.Learning.Compression;
using Actors.Learning.Wire;
using TorchSharp;

namespace Actors.Learning.Tests.Compression;

public class LocalPayloadSpec
{
    [Theory]
    [InlineData("none")]
    [InlineData("topk")]
    [InlineData("randk")]
    [InlineData("qsgd")]
    public void Local_payload_has_the_same_size_bytes_and_contents_as_the_wire_form(string codec)
    {
        using var x = torch.randn(1000, generator: new torch.Generator(7));
        var compressor = Compressors.Create(codec, new Dictionary<string, string> { ["ratio"] = "0.05" }, seed: 3);
        var context = new CompressionContext(1, 42);
        using var forWire = compressor.Compress(x, context);
        var wire = TensorPayload.FromCompressed(forWire);
        var local = TensorPayload.Local(Compressors.Create(codec, new Dictionary<string, string> { ["ratio"] = "0.05" }, seed: 3).Compress(x, context));

        Assert.Equal(wire.SizeBytes, local.SizeBytes);
        Assert.Equal(wire.Encode(), local.Encode()); // the bytes it would send are exactly the wire form's
        using var a = wire.ToTensor();
        using var b = local.ToTensor();
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        using var c = TensorPayload.Decode(local.Encode()).ToTensor();
        Assert.Equal(a.data<float>().ToArray(), c.data<float>().ToArray());
    }

    [Fact]
    public void Each_receiver_gets_its_own_copy()
    {
        using var x = torch.ones(4);
        var p = TensorPayload.LocalFromTensor(x);
        x.add_(1); // the sender's tensor moves on; the message does not
        using var first = p.ToTensor();
        first.mul_(10);
        using var second = p.ToTensor();
        Assert.Equal(new[] { 1f, 1f, 1f, 1f }, second.data<float>().ToArray());
    }

    [Fact]
    public void The_only_holder_takes_the_tensor_itself_and_the_payload_is_then_spent()
    {
        var x = torch.arange(6, dtype: torch.ScalarType.Float32);
        var p = TensorPayload.LocalOwning(x);
        using var taken = p.TakeTensor();
        Assert.Equal(new[] { 0f, 1f, 2f, 3f, 4f, 5f }, taken.data<float>().ToArray());
        taken.add_(1); // the receiver owns it now
        Assert.Throws<ObjectDisposedException>(() => p.ToTensor());
        Assert.Throws<ObjectDisposedException>(() => p.Share());
    }

    [Fact]
    public void A_shared_payload_is_copied_for_each_taker_and_freed_by_the_last_release()
    {
        var p = TensorPayload.LocalFromTensor(torch.ones(3));
        p.Share(); // e.g. the omniscient attackers' tap
        using var taken = p.TakeTensor(); // a copy: the other holder still reads the payload
        taken.mul_(5);
        using (var other = p.ToTensor()) Assert.Equal(new[] { 1f, 1f, 1f }, other.data<float>().ToArray());
        p.Release();
        Assert.Throws<ObjectDisposedException>(() => p.ToTensor());
        p.Release(); // one release too many is harmless
        Assert.Throws<ObjectDisposedException>(() => p.TakeTensor());
    }

    [Fact]
    public void Wire_payloads_ignore_sharing_and_release()
    {
        using var x = torch.ones(3);
        var wire = TensorPayload.FromTensor(x);
        wire.Release();
        using var t = wire.TakeTensor();
        using var again = wire.ToTensor();
        Assert.Equal(t.data<float>().ToArray(), again.data<float>().ToArray());
    }
}

using System.Runtime.InteropServices;
using TorchSharp;

namespace Actors.Runtime.Protocol;

/// <summary>
/// A tensor inside a message: immutable bytes, so one broadcast can go to many receivers without shared
/// tensor ownership. Each receiver decodes its own tensor.
/// </summary>
public sealed record TensorPayload(long[] Shape, byte[] Data)
{
    public long SizeBytes => Data.LongLength + 8L * Shape.Length + 8;

    public static TensorPayload FromTensor(torch.Tensor t)
    {
        using var c = t.to_type(torch.float32).contiguous().cpu();
        return new TensorPayload(t.shape, c.bytes.ToArray());
    }

    public torch.Tensor ToTensor()
    {
        var floats = MemoryMarshal.Cast<byte, float>(Data).ToArray();
        return torch.tensor(floats, Shape);
    }
}

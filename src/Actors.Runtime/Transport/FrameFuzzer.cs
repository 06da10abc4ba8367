using System.Net.Sockets;

namespace Actors.Runtime.Transport;

/// <summary>What a frame-fuzz run did to a listener: connections opened, status bytes it answered, connections it closed.</summary>
public sealed record FrameFuzzResult(int Cases, int StatusBytes, int ClosedByListener);

/// <summary>
/// Randomized fuzzing of the side channel's framing, against a real listener over TCP: streams of valid frames
/// (<see cref="BulkFrameHeader"/> + payload), mutated by truncation, bit flips in headers and payloads, lying length
/// fields (negative, beyond max-transfer-bytes, shorter or longer than what follows), repeated frames (the same transfer
/// id twice), reordered frames, wrong magic/version/flags and pure noise. Each case is one connection. The property
/// (checked by the caller): the listener answers or closes, never hangs past the stall timeout, and keeps serving
/// everyone else (a legitimate transfer afterwards succeeds, the counters explain the drops).
/// </summary>
public static class FrameFuzzer
{
    public static async Task<FrameFuzzResult> RunAsync(BulkEndpoint target, int cases, int seed, TimeSpan perCase, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var rng = new Random(seed);
        int statuses = 0, closed = 0;
        for (int i = 0; i < cases; i++)
        {
            var stream = Mutate(rng);
            using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(perCase);
            try
            {
                await client.ConnectAsync(target.Host, target.Port, timeout.Token).ConfigureAwait(false);
                await client.SendAsync(stream, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                client.Shutdown(SocketShutdown.Send); // what is sent is all there is: a frame cut short must be seen as truncated
                var reply = new byte[64];
                while (true)
                {
                    int got = await client.ReceiveAsync(reply, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (got == 0)
                    {
                        closed++;
                        break;
                    }
                    statuses += got;
                }
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                // The listener kept the connection open past perCase (e.g. waiting for the next frame of a pooled connection): fine.
            }
            catch (SocketException)
            {
                closed++; // reset by the listener
            }
        }
        return new FrameFuzzResult(cases, statuses, closed);
    }

    /// <summary>One fuzzed byte stream for one connection.</summary>
    public static byte[] Mutate(Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var frames = new List<byte[]>();
        int count = rng.Next(1, 4);
        for (int f = 0; f < count; f++) frames.Add(Frame(Guid.NewGuid(), rng.Next(0, 2048), rng));
        switch (rng.Next(9))
        {
            case 0: // repeated frame: the same transfer id twice
                frames.Add((byte[])frames[0].Clone());
                break;
            case 1: // reordered frames
                frames.Reverse();
                break;
            case 2: // truncated inside the header or the payload
                frames[^1] = frames[^1][..rng.Next(frames[^1].Length)];
                break;
            case 3: // a lying length field
                long[] lengths = [-1, 0, 1, long.MaxValue, int.MaxValue, 1L << 40, frames[0].Length, frames[0].Length - BulkFrameHeader.Size + 1];
                BitConverter.TryWriteBytes(frames[0].AsSpan(24, 8), lengths[rng.Next(lengths.Length)]);
                break;
            case 4: // bit flips in a header
                for (int k = rng.Next(1, 4); k > 0; k--) frames[0][rng.Next(BulkFrameHeader.Size)] ^= (byte)(1 << rng.Next(8));
                break;
            case 5: // bit flips in a payload (the frame stays valid: the receiver's envelope check judges the bytes)
                if (frames[0].Length > BulkFrameHeader.Size) frames[0][rng.Next(BulkFrameHeader.Size, frames[0].Length)] ^= 0x5a;
                break;
            case 6: // wrong magic, version or flags
                frames[0][rng.Next(0, 8)] = (byte)rng.Next(256);
                break;
            case 7: // noise
                var noise = new byte[rng.Next(1, 200)];
                rng.NextBytes(noise);
                return noise;
            default: // valid frames as they are
                break;
        }
        return [.. frames.SelectMany(f => f)];
    }

    private static byte[] Frame(Guid id, int length, Random rng)
    {
        var bytes = new byte[BulkFrameHeader.Size + length];
        new BulkFrameHeader(id, length, (byte)rng.Next(0, 3)).Write(bytes);
        rng.NextBytes(bytes.AsSpan(BulkFrameHeader.Size));
        return bytes;
    }
}

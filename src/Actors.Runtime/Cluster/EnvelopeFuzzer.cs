using System.Runtime.Serialization;
using Actors.Learning.Wire;
using TorchSharp;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// Randomized fuzzing of the learning-message envelope (<see cref="ParameterServerSerializer"/>): valid broadcasts and
/// updates around every codec's payload, mutated (bit flips, truncation, extension, lying header fields, spliced and
/// noise bytes; also a wrong manifest). The property: <see cref="ParameterServerSerializer.Decode"/> rejects with
/// <see cref="SerializationException"/> and nothing else, or returns a message whose payload decompresses.
/// Shared by the test subset and the benchmark run.
/// </summary>
public static class EnvelopeFuzzer
{
    /// <summary>Valid envelopes (manifest, bytes): a broadcast and an update around each sample payload.</summary>
    public static IReadOnlyList<(string Manifest, byte[] Bytes)> Samples(int seed = 1)
    {
        var result = new List<(string, byte[])>();
        foreach (var bytes in PayloadFuzzer.SamplePayloads(seed))
        {
            var payload = TensorPayload.Decode(bytes);
            result.Add((ParameterServerSerializer.BroadcastManifest, ParameterServerSerializer.Encode(new ModelBroadcast(7, payload, IsDelta: result.Count % 2 == 1))));
            result.Add((ParameterServerSerializer.UpdateManifest, ParameterServerSerializer.Encode(new WorkerUpdate(3, 7, payload, 800))));
        }
        return result;
    }

    /// <summary>Runs <paramref name="cases"/> mutations; throws <see cref="InvalidOperationException"/> with the bytes on a violation.</summary>
    public static FuzzResult Run(IReadOnlyList<(string Manifest, byte[] Bytes)> valid, int cases, int seed)
    {
        ArgumentNullException.ThrowIfNull(valid);
        var rng = new Random(seed);
        int rejected = 0, accepted = 0;
        for (int i = 0; i < cases; i++)
        {
            var (manifest, original) = valid[rng.Next(valid.Count)];
            var bytes = PayloadFuzzer.Corrupt(original, rng);
            if (rng.Next(20) == 0) manifest = manifest == ParameterServerSerializer.UpdateManifest ? ParameterServerSerializer.BroadcastManifest : "zz9";
            object message;
            try
            {
                message = ParameterServerSerializer.Decode(bytes, manifest, maxElements: 1 << 20);
            }
            catch (SerializationException)
            {
                rejected++;
                continue;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"case {i}: {e.GetType().Name} escaped Decode({manifest}) for {Convert.ToHexString(bytes)}", e);
            }
            var payload = message switch
            {
                ModelBroadcast m => m.Model,
                WorkerUpdate u => u.Update,
                _ => throw new InvalidOperationException($"case {i}: Decode returned a {message.GetType().Name}"),
            };
            try
            {
                using var scope = torch.NewDisposeScope();
                using var dense = payload.ToTensor();
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"case {i}: an accepted envelope's payload failed to decompress: {Convert.ToHexString(bytes)}", e);
            }
            accepted++;
        }
        return new FuzzResult(cases, rejected, accepted);
    }
}

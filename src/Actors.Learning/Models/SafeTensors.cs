using Actors.Learning.Util;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Learning.Models;

/// <summary>
/// The safetensors format (Hugging Face; what <c>safetensors.torch.load_file</c> reads in PyTorch): an 8-byte little-endian
/// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data. Written
/// by hand (a few lines) for float32/float64 vectors split by a <see cref="ParameterLayout"/>.
/// </summary>
public static class SafeTensors
{
    /// <summary>Writes <paramref name="values"/> (the flat model) as one tensor per layout entry, with optional string metadata.</summary>
    public static void Write(string path, ParameterLayout layout, ReadOnlySpan<float> values, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (values.Length != layout.Size) throw new ArgumentException($"{values.Length} values for a layout of {layout.Size}", nameof(values));
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        foreach (var (name, shape, offset, count) in layout.Entries)
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(4 * offset, 4 * (offset + count)),
            };
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the data starts 8-byte aligned: pad the header with spaces
        var bytes = new byte[8 + padded + 4L * values.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        var data = bytes.AsSpan(8 + padded);
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data[(4 * i)..], values[i]);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Write"/> (F32 tensors) back into (name, shape, values), in data order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape, float[] Values)> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: too short for a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"{path}: header length {headerLength} past the end of the file");
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength)) as JsonObject
                     ?? throw new InvalidDataException($"{path}: the header is not a JSON object");
        var data = bytes.AsSpan(8 + (int)headerLength);
        var result = new List<(string, long[], float[], long)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__" || node is not JsonObject t) continue;
            if (t["dtype"]?.GetValue<string>() != "F32") throw new InvalidDataException($"{path}: tensor {name} is not F32");
            var shape = t["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var range = t["data_offsets"]!.AsArray();
            long start = range[0]!.GetValue<long>(), end = range[1]!.GetValue<long>();
            if (start < 0 || end < start || end > data.Length || (end - start) != 4 * shape.Aggregate(1L, (a, b) => a * b))
                throw new InvalidDataException($"{path}: tensor {name} has a bad byte range [{start}, {end})");
            var values = new float[(end - start) / 4];
            for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(int)(start + 4 * i)..]);
            result.Add((name, shape, values, start));
        }
        return [.. result.OrderBy(r => r.Item4).Select(r => (r.Item1, r.Item2, r.Item3))];
    }

    /// <summary>Writes a module's parameters (float32) by their names.</summary>
    public static void Write(string path, TorchSharp.torch.nn.Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var flat = FlatParameters.Get(module);
        using var values = flat.to(TorchSharp.torch.float32);
        Write(path, ParameterLayout.Of(module), values.ToHostArray<float>(), metadata);
    }

    /// <summary>
    /// Loads a file into a module by parameter name: every parameter of the module must be in the file with its shape
    /// (extra tensors in the file are an error too: they mean the file is of another model).
    /// </summary>
    public static void LoadInto(TorchSharp.torch.nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        var tensors = Read(path).ToDictionary(t => t.Name);
        var parameters = module.named_parameters().ToList();
        var missing = parameters.Where(p => !tensors.ContainsKey(p.name)).Select(p => p.name).ToList();
        var extra = tensors.Keys.Except(parameters.Select(p => p.name)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new InvalidDataException($"{path} does not hold this model: " +
                (missing.Count > 0 ? $"missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}" : "") +
                (missing.Count > 0 && extra.Count > 0 ? "; " : "") +
                (extra.Count > 0 ? $"not in the model {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", ..." : "")}" : ""));
        using var noGrad = TorchSharp.torch.no_grad();
        foreach (var (name, p) in parameters)
        {
            var t = tensors[name];
            if (!t.Shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"{path}: {name} is [{string.Join("x", t.Shape)}] in the file and [{string.Join("x", p.shape)}] in the model");
            using var v = TorchSharp.torch.tensor(t.Values).reshape(t.Shape).to(p.dtype);
            p.copy_(v);
        }
    }

    /// <summary>The metadata strings of a file, empty when it has none.</summary>
    public static IReadOnlyDictionary<string, string> Metadata(string path)
    {
        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        return doc.RootElement.TryGetProperty("__metadata__", out var meta)
            ? meta.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "")
            : new Dictionary<string, string>();
    }
}

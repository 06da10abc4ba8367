using System.Buffers.Binary;
using System.IO.Compression;

namespace Actors.Learning.Data;

/// <summary>Thrown when a dataset file is missing, truncated or not what its header says.</summary>
public sealed class DatasetFormatException(string message) : Exception(message);

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed): a big-endian magic
/// (0x00 0x00 type rank), one u32 per dimension, then the raw values. Only unsigned bytes (0x08) occur there.
/// </summary>
public static class IdxReader
{
    public sealed record IdxArray(int[] Shape, byte[] Data)
    {
        public int Count => Shape[0];
        public int ItemSize => Shape.Skip(1).Aggregate(1, (a, b) => a * b);
    }

    public static IdxArray Read(string path)
    {
        if (!File.Exists(path)) throw new DatasetFormatException($"dataset file not found: {path}");
        using var file = File.OpenRead(path);
        Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using (stream)
        {
            try
            {
                return Read(stream, path);
            }
            catch (InvalidDataException e)
            {
                throw new DatasetFormatException($"{path}: corrupt gzip data ({e.Message})");
            }
        }
    }

    public static IdxArray Read(Stream stream, string name)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, name, "magic number");
        if (header[0] != 0 || header[1] != 0)
            throw new DatasetFormatException($"{name}: not an IDX file (bad magic {header[0]:x2}{header[1]:x2}{header[2]:x2}{header[3]:x2})");
        if (header[2] != 0x08)
            throw new DatasetFormatException($"{name}: unsupported IDX element type 0x{header[2]:x2} (only unsigned bytes, 0x08)");
        int rank = header[3];
        if (rank is < 1 or > 4) throw new DatasetFormatException($"{name}: unsupported IDX rank {rank}");
        var shape = new int[rank];
        long total = 1;
        Span<byte> dim = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(stream, dim, name, $"dimension {i}");
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dim);
            if (d == 0 || d > 100_000_000) throw new DatasetFormatException($"{name}: implausible dimension {d}");
            shape[i] = (int)d;
            total *= d;
        }
        if (total > int.MaxValue) throw new DatasetFormatException($"{name}: too large ({total} values)");
        var data = new byte[total];
        ReadExactly(stream, data, name, "data");
        return new IdxArray(shape, data);
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string name, string what)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = s.Read(buffer[read..]);
            if (n == 0)
                throw new DatasetFormatException($"{name}: truncated while reading {what} ({read} of {buffer.Length} bytes)");
            read += n;
        }
    }

    /// <summary>Writes an unsigned-byte IDX file (used by tests and by the synthetic fallback's cache).</summary>
    public static void Write(string path, int[] shape, byte[] data)
    {
        using var file = File.Create(path);
        Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Fastest) : file;
        using (s)
        {
            s.Write([0, 0, 0x08, (byte)shape.Length]);
            Span<byte> dim = stackalloc byte[4];
            foreach (int d in shape)
            {
                BinaryPrimitives.WriteUInt32BigEndian(dim, (uint)d);
                s.Write(dim);
            }
            s.Write(data);
        }
    }
}

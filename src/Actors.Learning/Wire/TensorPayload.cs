using Actors.Learning.Util;
using System.Buffers.Binary;
using System.Runtime.Serialization;
using Actors.Learning.Compression;
using TorchSharp;

namespace Actors.Learning.Wire;

/// <summary>
/// A compressed tensor as bytes, in the wire format, and a validated view of them. Layout (little-endian):
/// <code>
/// version u8 | codec u8 | dtype u8 | rank u8 | scalar count u8 | reserved u8 = 0 | part count u16 | seed i64
/// dims i64 x rank | scalars f64 x count
/// per part: dtype u8 | rank u8 | dims i64 x rank | byte length i64
/// the parts' raw bytes, one after the other, nothing after them
/// </code>
/// A payload is built from a <see cref="CompressedTensor"/> (one copy, tensor to wire bytes) or decoded from bytes
/// (zero copy: the payload is a view of the array; <see cref="ToCompressed"/> makes the one copy into tensors).
/// <see cref="Decode"/> checks everything a peer could lie about and throws only <see cref="SerializationException"/>.
/// <see cref="SizeBytes"/> is exactly what the serializer writes; <see cref="SizeOf"/> computes it without encoding.
/// </summary>
public sealed class TensorPayload : IPayloadView
{
    private byte[]? _buffer;
    private readonly torch.Tensor[]? _local;
    private readonly int _size;
    private readonly Lock _gate = new();
    private int _holders = 1; // in-process payloads: Share() adds a holder; the last Release() frees the tensors

    private TensorPayload(byte[] buffer, string codec, torch.ScalarType dtype, long[] shape, long seed, double[] scalars, PayloadPart[] parts)
    {
        _buffer = buffer;
        _size = buffer.Length;
        Codec = codec;
        DType = dtype;
        Shape = shape;
        Seed = seed;
        Scalars = scalars;
        Parts = parts;
    }

    public string Codec { get; }
    public torch.ScalarType DType { get; }
    public long[] Shape { get; }
    public long Seed { get; }
    public IReadOnlyList<double> Scalars { get; }
    public IReadOnlyList<PayloadPart> Parts { get; }
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// An in-process payload: keeps the (owned, never written) part tensors instead of bytes, so a message between actors
    /// of one process costs no managed allocation; the wire bytes are made only if it crosses a process boundary.
    /// Each receiver still gets its own copy from <see cref="ToCompressed"/>.
    /// </summary>
    private TensorPayload(CompressedTensor owned, int size)
    {
        _local = [.. owned.Parts];
        _size = size;
        Codec = owned.Codec;
        DType = owned.DType;
        Shape = (long[])owned.Shape.Clone();
        Seed = owned.Seed;
        Scalars = (double[])owned.Scalars.Clone();
        Parts = _local.Select(t => new PayloadPart(t.dtype, t.shape, -1, checked((int)(t.numel() * PayloadFormat.ElementSize(t.dtype))))).ToArray();
        NativeBudget.Add(size);
    }

    ~TensorPayload()
    {
        if (_local is not null) NativeBudget.Remove(_size);
    }

    /// <summary>
    /// The native bytes held by live in-process payloads. Released payloads free theirs at once; the rest (broadcasts
    /// read by many, attackers' taps, messages lost with a crashed actor) wait for the GC, which cannot see native
    /// memory. <c>GC.AddMemoryPressure</c> would tell it, but it forces a full collection for every few MB added, even
    /// when the same MB are freed right away: with 800 KB messages that was more than one gen-2 GC per round. So the
    /// count is ours, and a collection is requested only when the unreleased bytes double (from 256 MB).
    /// </summary>
    internal static class NativeBudget
    {
        private const long Floor = 256L << 20;
        private static long s_live;
        private static long s_next = Floor;

        public static void Add(long bytes)
        {
            long live = Interlocked.Add(ref s_live, bytes);
            long next = Interlocked.Read(ref s_next);
            if (live > next && Interlocked.CompareExchange(ref s_next, Math.Max(Floor, 2 * live), next) == next)
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Optimized, blocking: false);
        }

        public static void Remove(long bytes)
        {
            long live = Interlocked.Add(ref s_live, -bytes);
            long next = Interlocked.Read(ref s_next);
            if (next > Floor && live < next / 4) Interlocked.CompareExchange(ref s_next, Math.Max(Floor, 2 * live), next);
        }
    }

    /// <summary>
    /// In-process payloads are reference counted so that their native memory is freed when the last holder is done,
    /// not when the GC gets round to it (memory pressure from dead messages used to force a full GC every few rounds).
    /// A sender that hands one payload to several receivers calls <see cref="Share"/> once per extra receiver; a receiver
    /// that is done calls <see cref="Release"/> (or <see cref="TakeTensor"/>). Holders that never release are covered by
    /// the finalizer. Wire payloads (bytes) ignore both.
    /// </summary>
    public TensorPayload Share()
    {
        if (_local is null) return this;
        if (Interlocked.Increment(ref _holders) <= 1)
        {
            Interlocked.Decrement(ref _holders);
            throw new ObjectDisposedException(nameof(TensorPayload), "the payload was already released");
        }
        return this;
    }

    /// <summary>This holder is done with the payload; the last one frees the in-process tensors.</summary>
    public void Release()
    {
        if (_local is null) return;
        int left = Interlocked.Decrement(ref _holders);
        if (left == 0) Free(disposeTensors: true);
        else if (left < 0) Interlocked.Increment(ref _holders); // released once too often: keep it freed, stay at 0
    }

    /// <summary>
    /// The dense tensor (the caller owns it), and this holder's share released. The only holder of an in-process
    /// uncompressed payload gets the payload's own tensor, moved out without a copy; otherwise it is a decoded copy.
    /// </summary>
    public torch.Tensor TakeTensor()
    {
        ThrowIfReleased();
        if (_local is { Length: 1 } && Codec == Identity.CodecName && Parts[0].DType == DType
            && Interlocked.CompareExchange(ref _holders, 0, 1) == 1)
        {
            var own = _local[0];
            Free(disposeTensors: false);
            if (own.shape.SequenceEqual(Shape)) return own;
            var shaped = own.reshape(Shape).DetachFromDisposeScope(); // a view: the storage stays alive without `own`
            own.Dispose();
            return shaped;
        }
        try
        {
            return ToTensor();
        }
        finally
        {
            Release();
        }
    }

    private void Free(bool disposeTensors)
    {
        if (disposeTensors)
            foreach (var t in _local!) t.Dispose();
        NativeBudget.Remove(_size);
        GC.SuppressFinalize(this);
    }

    private void ThrowIfReleased()
    {
        if (_local is not null && Volatile.Read(ref _holders) <= 0)
            throw new ObjectDisposedException(nameof(TensorPayload), "the in-process payload was already released by its last holder");
    }

    /// <summary>
    /// An in-process payload that takes ownership of <paramref name="compressed"/>'s tensors (detached from any dispose
    /// scope; do not dispose or modify them afterwards). Same sizes and contents as <see cref="FromCompressed"/>.
    /// </summary>
    public static TensorPayload Local(CompressedTensor compressed)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        int size = SizeOf(compressed);
        foreach (var p in compressed.Parts)
        {
            if (p.device_type != DeviceType.CPU || !p.is_contiguous()) throw new ArgumentException("local payload parts must be contiguous CPU tensors", nameof(compressed));
            p.DetachFromDisposeScope();
        }
        return new TensorPayload(compressed, size);
    }

    /// <summary>
    /// An in-process payload of an uncompressed vector that takes <paramref name="x"/> itself (no copy): the caller must
    /// not use, modify or dispose it afterwards. For a fresh tensor the sender made for this message.
    /// </summary>
    public static TensorPayload LocalOwning(torch.Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.device_type != DeviceType.CPU || !x.is_contiguous() || x.requires_grad) throw new ArgumentException("an owned local payload must be a contiguous CPU tensor without autograd", nameof(x));
        var shape = x.shape;
        var flat = x.dim() == 1 ? x : x.reshape(-1);
        if (!ReferenceEquals(flat, x)) x.Dispose(); // the flat view keeps the storage alive
        flat.DetachFromDisposeScope();
        return Local(new CompressedTensor(Identity.CodecName, shape, [flat], dtype: flat.dtype));
    }

    /// <summary>An in-process payload of an uncompressed vector (one native copy, no managed allocation).</summary>
    public static TensorPayload LocalFromTensor(torch.Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = torch.NewDisposeScope();
        var copy = x.detach().reshape(-1).clone().DetachFromDisposeScope();
        return Local(new CompressedTensor(Identity.CodecName, x.shape, [copy], dtype: x.dtype));
    }

    /// <summary>
    /// For an in-process uncompressed payload: its dense 1-D tensor itself, without a copy. The caller only reads it
    /// (never modifies or disposes it) and keeps the payload reachable while it does.
    /// </summary>
    public bool TryBorrowDense(out torch.Tensor dense)
    {
        ThrowIfReleased();
        if (_local is { Length: 1 } && Codec == Identity.CodecName && Parts[0].DType == DType && Shape.Length == 1)
        {
            dense = _local[0];
            return true;
        }
        dense = null!;
        return false;
    }

    /// <summary>Exact serialized size in bytes: what goes on the wire for this message.</summary>
    public int SizeBytes => _size;

    /// <summary>The wire bytes. Not a copy: the payload is immutable, do not write into the array.</summary>
    public byte[] Encode()
    {
        if (_buffer is not null) return _buffer;
        ThrowIfReleased();
        lock (_gate)
        {
            // Borrowed view of our own tensors: the CompressedTensor is not disposed.
            _buffer ??= FromCompressed(new CompressedTensor(Codec, Shape, _local!, [.. Scalars], Seed, DType))._buffer!;
            GC.KeepAlive(this);
            return _buffer;
        }
    }

    public ReadOnlySpan<byte> PartBytes(int index)
    {
        ThrowIfReleased();
        if (_local is not null && Util.TorchSetup.OnCpu) return _local[index].bytes;
        return (_buffer ?? Encode()).AsSpan(Parts[index].Offset, Parts[index].Length); // device tensors: through the host bytes
    }

    /// <summary>Exact size of the payload <see cref="FromCompressed"/> would build, without building it.</summary>
    public static int SizeOf(CompressedTensor compressed) => PayloadCodec.SizeOf(compressed);

    /// <summary>Size of the same vector sent uncompressed (codec `none`): the `bytes_uplink_uncompressed` figure.</summary>
    public static int UncompressedSizeBytes(long numel, torch.ScalarType dtype = torch.ScalarType.Float32) => PayloadCodec.UncompressedSizeBytes(numel, dtype);

    /// <summary>The payload of an uncompressed vector (codec `none`).</summary>
    public static TensorPayload FromTensor(torch.Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        // The CompressedTensor only borrows a flat view of x; only the view is disposed.
        using var flat = x.reshape(-1);
        return FromCompressed(new CompressedTensor(Identity.CodecName, x.shape, [flat], dtype: x.dtype));
    }

    /// <summary>Serializes a compressed tensor (one copy of each part's bytes). Does not take ownership.</summary>
    public static TensorPayload FromCompressed(CompressedTensor compressed)
    {
        var (buffer, parts) = PayloadCodec.Write(compressed);
        return new TensorPayload(buffer, compressed.Codec, compressed.DType, (long[])compressed.Shape.Clone(), compressed.Seed, (double[])compressed.Scalars.Clone(), parts);
    }

    /// <summary>
    /// Parses and validates wire bytes. The result is a view of <paramref name="bytes"/> (no copy): do not reuse the
    /// array. <paramref name="maxElements"/> bounds the decompressed size (set it to the model size: a sparse message
    /// claiming a huge shape is rejected before anyone allocates it). With <paramref name="allowNonFiniteValues"/>
    /// false, NaN/Inf in float parts is malformed; scalars (norms, scales) must always be finite.
    /// Throws <see cref="SerializationException"/> and nothing else.
    /// </summary>
    public static TensorPayload Decode(byte[] bytes, long maxElements = PayloadFormat.MaxElements, bool allowNonFiniteValues = true)
    {
        try
        {
            return DecodeChecked(bytes, maxElements, allowNonFiniteValues);
        }
        catch (SerializationException)
        {
            throw;
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException or InvalidOperationException)
        {
            // Belt and braces: every check above should have caught it first.
            throw new SerializationException($"malformed tensor payload: {e.Message}", e);
        }
    }

    /// <summary>Rebuilds the tensors (one copy from the wire bytes). The caller owns the result.</summary>
    public CompressedTensor ToCompressed()
    {
        ThrowIfReleased();
        if (_local is not null)
        {
            var clones = _local.Select(t => t.clone()).ToList();
            GC.KeepAlive(this); // the parts must outlive the native clone calls
            return new CompressedTensor(Codec, (long[])Shape.Clone(), clones, [.. Scalars], Seed, DType);
        }
        var tensors = new List<torch.Tensor>(Parts.Count);
        try
        {
            for (int i = 0; i < Parts.Count; i++)
            {
                var part = Parts[i];
                var t = torch.empty(part.Shape, dtype: part.DType, device: torch.CPU);
                tensors.Add(t);
                PartBytes(i).CopyTo(t.bytes);
                if (!Util.TorchSetup.OnCpu) tensors[^1] = t.OnDevice();
            }
        }
        catch
        {
            foreach (var t in tensors) t.Dispose();
            throw;
        }
        return new CompressedTensor(Codec, (long[])Shape.Clone(), tensors, [.. Scalars], Seed, DType);
    }

    /// <summary>Decodes straight to a dense tensor (what a receiver that does not sum compressed parts does).</summary>
    public torch.Tensor ToTensor()
    {
        ThrowIfReleased();
        if (_local is not null && Codec == Identity.CodecName && Parts[0].DType == DType)
        {
            using var scope = torch.NewDisposeScope();
            var dense = _local[0].reshape(Shape).clone().MoveToOuterDisposeScope(); // one copy
            GC.KeepAlive(this);
            return dense;
        }
        using var compressed = ToCompressed();
        return Codecs.Decompress(compressed);
    }

    private static TensorPayload DecodeChecked(byte[] bytes, long maxElements, bool allowNonFiniteValues)
    {
        var (codec, dtype, shape, seed, scalars, parts) = PayloadCodec.Read(bytes, maxElements);
        var payload = new TensorPayload(bytes, codec, dtype, shape, seed, scalars, parts);
        Codecs.Get(codec).CheckPayload(payload, shape.Aggregate(1L, (x, y) => x * y), allowNonFiniteValues);
        return payload;
    }

    internal static SerializationException Malformed(string why) => PayloadChecks.Malformed(why);
}

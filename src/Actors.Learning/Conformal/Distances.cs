using Actors.Learning.Util;
using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Actors.Learning.Conformal;

/// <summary>Where pairwise Euclidean distances are computed.</summary>
public enum DistanceBackend
{
    /// <summary>Plain C# loops (SIMD over the feature dimension).</summary>
    Naive,

    /// <summary>One batched <c>torch.cdist</c> call in float64 with the difference formula (no ||a||^2+||b||^2-2ab cancellation).</summary>
    Torch,
}

/// <summary>
/// Euclidean distances between rows of two row-major double matrices. Both backends compute sqrt(sum (a-b)^2) in double;
/// they agree to the last few bits (the summation order differs), which <see cref="Ties"/> absorbs.
/// </summary>
public static class Distances
{
    /// <summary>Rows per torch call: bounds the temporary [rows, n] tensor.</summary>
    private const int TorchBlockRows = 512;

    public static double Euclidean(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => Math.Sqrt(SquaredEuclidean(a, b));

    public static double SquaredEuclidean(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int d = a.Length, i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && d >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            var va = MemoryMarshal.Cast<double, Vector<double>>(a);
            var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
            for (int v = 0; v < va.Length; v++)
            {
                var diff = va[v] - vb[v];
                acc += diff * diff;
            }
            sum = Vector.Sum(acc);
            i = va.Length * Vector<double>.Count;
        }
        for (; i < d; i++)
        {
            double diff = a[i] - b[i];
            sum += diff * diff;
        }
        return sum;
    }

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int d = a.Length, i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && d >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            var va = MemoryMarshal.Cast<double, Vector<double>>(a);
            var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
            for (int v = 0; v < va.Length; v++) acc += va[v] * vb[v];
            sum = Vector.Sum(acc);
            i = va.Length * Vector<double>.Count;
        }
        for (; i < d; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y += alpha * x.</summary>
    public static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int d = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && d >= Vector<double>.Count)
        {
            var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
            var va = new Vector<double>(alpha);
            for (int v = 0; v < vx.Length; v++) vy[v] += va * vx[v];
            i = vx.Length * Vector<double>.Count;
        }
        for (; i < d; i++) y[i] += alpha * x[i];
    }

    /// <summary>Distances from one point to every row of <paramref name="bag"/>.</summary>
    public static void ToRows(ReadOnlySpan<double> x, LabelledData bag, Span<double> output)
    {
        for (int j = 0; j < bag.Count; j++) output[j] = Euclidean(x, bag.Row(j));
    }

    /// <summary>
    /// Distances between rows [<paramref name="start"/>, start+count) of <paramref name="a"/> (row-major, dimension d) and all
    /// <paramref name="bCount"/> rows of <paramref name="b"/>, written row-major into <paramref name="output"/> [count, bCount].
    /// </summary>
    public static void Block(double[] a, int start, int count, double[] b, int bCount, int d, Span<double> output, DistanceBackend backend)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (output.Length < count * bCount) throw new ArgumentException("output too small", nameof(output));
        if (backend == DistanceBackend.Naive)
        {
            var bs = b.AsSpan(0, bCount * d);
            for (int i = 0; i < count; i++)
            {
                var ai = a.AsSpan((start + i) * d, d);
                var row = output.Slice(i * bCount, bCount);
                for (int j = 0; j < bCount; j++) row[j] = Euclidean(ai, bs.Slice(j * d, d));
            }
            return;
        }
        using var scope = torch.NewDisposeScope();
        var bt = torch.tensor(b.AsSpan(0, bCount * d).ToArray(), [bCount, d], torch.float64);
        for (int s = 0; s < count; s += TorchBlockRows)
        {
            int rows = Math.Min(TorchBlockRows, count - s);
            using var inner = torch.NewDisposeScope();
            var at = torch.tensor(a.AsSpan((start + s) * d, rows * d).ToArray(), [rows, d], torch.float64);
            var dist = torch.cdist(at, bt, 2.0, compute_mode.donot_use_mm_for_euclid_dist).contiguous();
            using var host = TorchSetup.OnCpu ? null : dist.cpu();
            (host ?? dist).bytes.CopyTo(MemoryMarshal.AsBytes(output.Slice(s * bCount, rows * bCount)));
        }
    }

    /// <summary>The full distance matrix [a.Count, b.Count] between two bags.</summary>
    public static double[] Matrix(LabelledData a, LabelledData b, DistanceBackend backend)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Dimension != b.Dimension)
            throw new ArgumentException($"mismatched feature dimensions: {a.Dimension} vs {b.Dimension}");
        var output = new double[a.Count * b.Count];
        Block(a.Features, 0, a.Count, b.Features, b.Count, a.Dimension, output, backend);
        return output;
    }
}

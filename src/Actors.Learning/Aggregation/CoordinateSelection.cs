using Actors.Learning.Util;
using System.Numerics;
using TorchSharp;

namespace Actors.Learning.Aggregation;

/// <summary>
/// Order statistics per coordinate across n input vectors, in blocks of coordinates on all cores. torch's sort,
/// median and kthvalue along the stacked dimension took seconds at d = 1M (strided small sorts); a selection
/// (quickselect) per coordinate over a gathered buffer is linear in n and needs no [n, d] copy.
/// </summary>
internal static class CoordinateSelection
{
    private const int Block = 8192;

    /// <summary>Per coordinate: the median (mean of the two middle values for even n).</summary>
    public static torch.Tensor Median(IReadOnlyList<torch.Tensor> inputs) =>
        inputs[0].dtype == torch.float64 ? Run<double>(inputs, MedianOf) : Run<float>(inputs, MedianOf);

    /// <summary>Per coordinate: the mean after dropping the <paramref name="trim"/> largest and smallest values.</summary>
    public static torch.Tensor TrimmedMean(IReadOnlyList<torch.Tensor> inputs, int trim) =>
        inputs[0].dtype == torch.float64
            ? Run<double>(inputs, v => TrimmedMeanOf(v, trim))
            : Run<float>(inputs, v => TrimmedMeanOf(v, trim));

    private delegate T Reducer<T>(Span<T> values);

    private static unsafe torch.Tensor Run<T>(IReadOnlyList<torch.Tensor> inputs, Reducer<T> reduce)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = inputs.Count;
        long d = inputs[0].shape[0];
        using var scope = torch.NewDisposeScope();
        var dtype = inputs[0].dtype;
        var sources = inputs.Select(t => t.detach().cpu().to(dtype).contiguous()).ToArray();
        var result = torch.empty(d, dtype, device: torch.CPU); // filled through its host address; moved to the device at the end
        // Tensor storage is native memory the GC never moves, so the addresses stay valid while the tensors live.
        var addresses = new nint[n];
        for (int i = 0; i < n; i++)
        {
            fixed (byte* p = sources[i].bytes) addresses[i] = (nint)p;
        }
        nint output;
        fixed (byte* p = result.bytes) output = (nint)p;
        long blocks = (d + Block - 1) / Block;
        Parallel.For(0L, blocks, () => new T[n], (block, _, buffer) =>
        {
            long start = block * Block, end = Math.Min(d, start + Block);
            for (long k = start; k < end; k++)
            {
                for (int i = 0; i < n; i++) buffer[i] = ((T*)addresses[i])[k];
                ((T*)output)[k] = reduce(buffer);
            }
            return buffer;
        }, _ => { });
        GC.KeepAlive(sources);
        return result.OnDevice().MoveToOuterDisposeScope();
    }

    private static T MedianOf<T>(Span<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = v.Length;
        int mid = (n - 1) / 2;
        Select(v, mid);
        if (n % 2 == 1) return v[mid];
        // Even n: the upper middle is the smallest value above the lower middle.
        T upper = v[mid + 1];
        for (int i = mid + 2; i < n; i++) if (v[i] < upper) upper = v[i];
        return (v[mid] + upper) / T.CreateChecked(2);
    }

    private static T TrimmedMeanOf<T>(Span<T> v, int b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = v.Length;
        if (b > 0)
        {
            Select(v, b);                           // v[0..b) are the b smallest
            Select(v[b..], n - 2 * b);              // then v[n-b..n) are the b largest
        }
        T sum = T.Zero;
        for (int i = b; i < n - b; i++) sum += v[i];
        return sum / T.CreateChecked(n - 2 * b);
    }

    /// <summary>Quickselect: afterwards v[k] holds the k-th smallest, smaller-or-equal values before it, larger-or-equal after.</summary>
    internal static void Select<T>(Span<T> v, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lo = 0, hi = v.Length - 1;
        while (hi > lo)
        {
            // Median of three as the pivot, then a Hoare partition.
            int m = lo + (hi - lo) / 2;
            if (v[m] < v[lo]) (v[m], v[lo]) = (v[lo], v[m]);
            if (v[hi] < v[lo]) (v[hi], v[lo]) = (v[lo], v[hi]);
            if (v[hi] < v[m]) (v[hi], v[m]) = (v[m], v[hi]);
            T pivot = v[m];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (v[i] < pivot) i++;
                while (pivot < v[j]) j--;
                if (i <= j)
                {
                    (v[i], v[j]) = (v[j], v[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return;
        }
    }
}

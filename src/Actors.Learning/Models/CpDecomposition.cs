using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Models;

/// <summary>
/// A rank-R CP (CANDECOMP/PARAFAC) decomposition of a 3-way tensor T [I, J, K] by alternating least squares:
/// T[i, a, b] ~ sum_r M[i, r] A[a, r] B[b, r]. Each step solves one factor exactly with the other two fixed
/// (A = T_(2) (M (.) B) ((M^T M) * (B^T B))^+, and likewise), so the fit never gets worse.
/// </summary>
public static class CpDecomposition
{
    /// <summary>The factors and the relative fit error ||T - T^|| / ||T|| (0 when T is zero).</summary>
    public sealed record Result(torch.Tensor M, torch.Tensor A, torch.Tensor B, double FitError, int Iterations) : IDisposable
    {
        public void Dispose()
        {
            M.Dispose();
            A.Dispose();
            B.Dispose();
        }
    }

    /// <summary>
    /// Decomposes a stack of I matrices, T[i] of rank at most <paramref name="blockRank"/> each. The start is the block
    /// solution: the R largest singular triples over all slices, each used by its own slice only (M an indicator), which
    /// is already exact when R >= I x blockRank; ALS then lets the slices share components. Runs in float64.
    /// </summary>
    public static Result OfSlices(torch.Tensor slices, int rank, int blockRank, int maxIterations = 1000, double tolerance = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(slices);
        if (slices.dim() != 3) throw new ArgumentException($"a CP decomposition here takes a 3-way tensor, got {slices.dim()} dimensions");
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, "the rank must be positive");
        using var scope = torch.NewDisposeScope();
        var t = slices.to(torch.float64);
        var (m, a, b) = BlockStart(t, rank, Math.Max(1, blockRank));
        double norm = t.norm().item<double>();
        double error = RelativeError(t, m, a, b, norm);
        int iteration = 0;
        for (; iteration < maxIterations && error > 1e-14; iteration++)
        {
            using var step = torch.NewDisposeScope();
            // The MTTKRPs as batched matmuls: sum_i M[i, r] (T[i] B)[a, r], sum_i M[i, r] (T[i]^T A)[b, r], sum_a A[a, r] (T[i] B)[a, r].
            var nextA = Solve(t.matmul(b).mul(m.unsqueeze(1)).sum(dim: 0), m, b);
            var nextB = Solve(t.transpose(1, 2).matmul(nextA).mul(m.unsqueeze(1)).sum(dim: 0), m, nextA);
            var nextM = Solve(t.matmul(nextB).mul(nextA.unsqueeze(0)).sum(dim: 1), nextA, nextB);
            // Keep A and B at unit columns (the scale lives in M): the Gram matrices stay well conditioned.
            var na = nextA.norm(0, keepdim: true).ClampMin(1e-300);
            var nb = nextB.norm(0, keepdim: true).ClampMin(1e-300);
            var (m2, a2, b2) = (nextM.mul(na).mul(nb), nextA.div(na), nextB.div(nb));
            double next = RelativeError(t, m2, a2, b2, norm);
            bool stalled = error - next <= tolerance * Math.Max(error, 1e-300);
            m.Dispose();
            a.Dispose();
            b.Dispose();
            (m, a, b) = (m2.MoveToOuterDisposeScope(), a2.MoveToOuterDisposeScope(), b2.MoveToOuterDisposeScope());
            error = next;
            if (stalled) { iteration++; break; }
        }
        return new Result(m.MoveToOuterDisposeScope(), a.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), error, iteration);
    }

    /// <summary>The tensor the factors describe: T^[i, a, b] = sum_r M[i, r] A[a, r] B[b, r].</summary>
    public static torch.Tensor Compose(torch.Tensor m, torch.Tensor a, torch.Tensor b)
    {
        ArgumentNullException.ThrowIfNull(m);
        using var scaled = a.unsqueeze(0).mul(m.unsqueeze(1)); // [I, J, R]: A diag(m_i)
        return scaled.matmul(b.t());
    }

    private static double RelativeError(torch.Tensor t, torch.Tensor m, torch.Tensor a, torch.Tensor b, double norm)
    {
        using var scope = torch.NewDisposeScope();
        double residual = t.sub(Compose(m, a, b)).norm().item<double>();
        return norm > 0 ? residual / norm : residual;
    }

    /// <summary>rhs ((X^T X) * (Y^T Y))^+, the least-squares factor for the unfolding against the Khatri-Rao product of X and Y.</summary>
    private static torch.Tensor Solve(torch.Tensor rhs, torch.Tensor x, torch.Tensor y)
    {
        var gram = x.t().matmul(x).mul(y.t().matmul(y));
        return rhs.matmul(torch.linalg.pinv(gram, rtol: 1e-13, hermitian: true));
    }

    private static (torch.Tensor M, torch.Tensor A, torch.Tensor B) BlockStart(torch.Tensor t, int rank, int blockRank)
    {
        long slices = t.shape[0], rows = t.shape[1], cols = t.shape[2];
        var triples = new List<(double S, int Slice, torch.Tensor U, torch.Tensor V)>();
        for (int i = 0; i < slices; i++)
        {
            var (u, s, vh) = torch.linalg.svd(t[i], fullMatrices: false);
            int keep = (int)Math.Min(blockRank, s.shape[0]);
            var values = s.ToHostArray<double>();
            for (int j = 0; j < keep; j++) triples.Add((values[j], i, u[.., j], vh[j]));
        }
        // Largest first; ties (and the zero tail) by slice, so the start is a pure function of T.
        var chosen = triples.OrderByDescending(p => p.S).ThenBy(p => p.Slice).Take(rank).ToList();
        var m = torch.zeros(slices, rank, torch.float64);
        var a = torch.zeros(rows, rank, torch.float64);
        var b = torch.zeros(cols, rank, torch.float64);
        for (int r = 0; r < chosen.Count; r++)
        {
            var (s, slice, u, v) = chosen[r];
            m[slice, r] = torch.tensor(s, torch.float64);
            a[.., r] = u;
            b[.., r] = v;
        }
        // Components beyond the slices' total rank start as small fixed directions (ALS may use them to share).
        for (int r = chosen.Count; r < rank; r++)
        {
            a[r % rows, r] = torch.tensor(1.0, torch.float64);
            b[(r / rows) % cols, r] = torch.tensor(1.0, torch.float64);
        }
        return (m, a, b);
    }
}

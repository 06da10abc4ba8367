namespace Actors.Learning.Conformal;

/// <summary>
/// The LS-SVM with a linear kernel in its primal form: one-vs-rest least squares on targets +1 (own label) / -1,
/// ridge rho, no bias: W = (X^T X + rho I)^-1 X^T T. The dual (K + rho I)^-1 T with K = X X^T gives the same
/// decision values; the primal costs p^3 instead of n^3. Dense p x p helpers (Cholesky) for small p.
/// </summary>
internal static class Ridge
{
    /// <summary>Gram matrix G += weight * x x^T (full symmetric, row-major p x p).</summary>
    public static void AddOuter(Span<double> gram, ReadOnlySpan<double> x, double weight)
    {
        int p = x.Length;
        for (int a = 0; a < p; a++)
        {
            double w = weight * x[a];
            if (w != 0) Distances.Axpy(w, x, gram.Slice(a * p, p));
        }
    }

    /// <summary>
    /// Trains the one-vs-rest ridge model on the examples of <paramref name="bag"/> with multiplicities
    /// <paramref name="weights"/> (null = 1 each) and <paramref name="skip"/> left out. Returns W as [classes, p].
    /// </summary>
    public static double[] Train(LabelledData bag, ReadOnlySpan<int> weights, int skip, double rho, int onlyClass = -1)
    {
        int p = bag.Dimension, classes = bag.Classes;
        var gram = new double[p * p];
        var total = new double[p];
        var perClass = new double[classes * p];
        for (int j = 0; j < bag.Count; j++)
        {
            int w = weights.IsEmpty ? 1 : weights[j];
            if (j == skip || w == 0) continue;
            var x = bag.Row(j);
            AddOuter(gram, x, w);
            Distances.Axpy(w, x, total);
            Distances.Axpy(w, x, perClass.AsSpan(bag.Labels[j] * p, p));
        }
        for (int a = 0; a < p; a++) gram[a * p + a] += rho;
        CholeskyInPlace(gram, p);
        var model = new double[classes * p];
        for (int c = 0; c < classes; c++)
        {
            if (onlyClass >= 0 && c != onlyClass) continue;
            // X^T t_c = sum_{y_j = c} x_j - sum_{y_j != c} x_j = 2 * perClass_c - total.
            var rhs = model.AsSpan(c * p, p);
            for (int a = 0; a < p; a++) rhs[a] = 2 * perClass[c * p + a] - total[a];
            CholeskySolveInPlace(gram, p, rhs);
        }
        return model;
    }

    /// <summary>Decision value f_c(x) = w_c . x.</summary>
    public static double Decision(double[] model, int c, ReadOnlySpan<double> x) =>
        Distances.Dot(model.AsSpan(c * x.Length, x.Length), x);

    /// <summary>Lower Cholesky factor of a symmetric positive definite matrix, in place (upper triangle left as is).</summary>
    public static void CholeskyInPlace(Span<double> a, int p)
    {
        for (int j = 0; j < p; j++)
        {
            double s = a[j * p + j];
            for (int t = 0; t < j; t++) s -= a[j * p + t] * a[j * p + t];
            if (s <= 0) throw new InvalidOperationException("matrix is not positive definite");
            double l = Math.Sqrt(s);
            a[j * p + j] = l;
            for (int i = j + 1; i < p; i++)
            {
                double v = a[i * p + j];
                for (int t = 0; t < j; t++) v -= a[i * p + t] * a[j * p + t];
                a[i * p + j] = v / l;
            }
        }
    }

    /// <summary>Solves (L L^T) z = b in place given the factor from <see cref="CholeskyInPlace"/>.</summary>
    public static void CholeskySolveInPlace(ReadOnlySpan<double> l, int p, Span<double> b)
    {
        for (int i = 0; i < p; i++)
        {
            double v = b[i];
            for (int t = 0; t < i; t++) v -= l[i * p + t] * b[t];
            b[i] = v / l[i * p + i];
        }
        for (int i = p - 1; i >= 0; i--)
        {
            double v = b[i];
            for (int t = i + 1; t < p; t++) v -= l[t * p + i] * b[t];
            b[i] = v / l[i * p + i];
        }
    }

    /// <summary>The inverse of a symmetric positive definite matrix (row-major p x p).</summary>
    public static double[] Inverse(ReadOnlySpan<double> a, int p)
    {
        var l = a.ToArray();
        CholeskyInPlace(l, p);
        var inv = new double[p * p];
        var col = new double[p];
        for (int c = 0; c < p; c++)
        {
            Array.Clear(col);
            col[c] = 1;
            CholeskySolveInPlace(l, p, col);
            for (int r = 0; r < p; r++) inv[r * p + c] = col[r];
        }
        return inv;
    }
}

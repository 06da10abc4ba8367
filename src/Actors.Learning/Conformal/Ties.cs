namespace Actors.Learning.Conformal;

/// <summary>
/// The one place that decides <c>alpha_i &gt;= alpha_x</c>. Incremental sums and fresh sums differ in the last bits,
/// so both the standard and the optimized predictors count scores within 1e-12 relative as equal (ALGORITHMS.md section 11).
/// </summary>
public static class Ties
{
    public const double RelativeTolerance = 1e-12;

    /// <summary>True when <paramref name="a"/> &gt;= <paramref name="b"/>, or the two are equal within the relative tolerance.</summary>
    public static bool AtLeast(double a, double b)
    {
        if (a >= b) return true;
        if (!double.IsFinite(a) || !double.IsFinite(b)) return false;
        return b - a <= RelativeTolerance * Math.Max(Math.Abs(a), Math.Abs(b));
    }

    /// <summary>Full-CP p-value: (1 + #{i : alpha_i &gt;= alpha_test}) / (n + 1).</summary>
    public static double PValue(ReadOnlySpan<double> others, double test)
    {
        int count = 0;
        foreach (var a in others)
            if (AtLeast(a, test)) count++;
        return (1.0 + count) / (others.Length + 1);
    }
}

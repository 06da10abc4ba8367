namespace Actors.Learning.Attacks;

/// <summary>The standard normal distribution: quantile (Acklam's approximation refined by one Halley step) and cdf.</summary>
public static class NormalDistribution
{
    // Acklam's rational approximations (relative error < 1.15e-9), central region and tails.
    private static readonly double[] A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
    private static readonly double[] B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
    private static readonly double[] C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
    private static readonly double[] D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];

    /// <summary>Phi^-1(p) for 0 &lt; p &lt; 1, to about 1e-15 relative.</summary>
    public static double InverseCdf(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Phi^-1 needs 0 < p < 1");
        double x = Acklam(p);
        // One Halley step on Phi(x) - p takes the 1e-9 approximation to full double precision.
        double e = p < 0.5 ? Cdf(x) - p : 1 - p - Cdf(-x);
        double u = e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
        return x - u / (1 + x * u / 2);
    }

    /// <summary>Phi(x): a Taylor series of erf near 0, a continued fraction for erfc in the tails.</summary>
    public static double Cdf(double x)
    {
        double t = Math.Abs(x) / Math.Sqrt(2);
        double erfc;
        if (t < 2)
        {
            double term = t, sum = t, t2 = t * t;
            for (int k = 1; k < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); k++)
            {
                term *= -t2 / k;
                sum += term / (2 * k + 1);
            }
            erfc = 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(t) = exp(-t^2)/sqrt(pi) * 1/(t + (1/2)/(t + 1/(t + (3/2)/(t + ...)))), evaluated bottom-up.
            double f = t;
            for (int k = 60; k >= 1; k--) f = t + k / 2.0 / f;
            erfc = Math.Exp(-t * t) / Math.Sqrt(Math.PI) / f;
        }
        return x >= 0 ? 1 - erfc / 2 : erfc / 2;
    }

    private static double Acklam(double p)
    {
        const double low = 0.02425;
        if (p < low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return Tail(q);
        }
        if (p > 1 - low)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -Tail(q);
        }
        {
            double q = p - 0.5, r = q * q;
            return (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q /
                   (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
        }
    }

    private static double Tail(double q) =>
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
        ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
}

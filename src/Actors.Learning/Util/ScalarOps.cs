using TorchSharp;

namespace Actors.Learning.Util;

/// <summary>
/// Tensor-and-number operations whose number lives in an explicit, disposed <see cref="Scalar"/>. An implicit
/// <c>double -> Scalar</c> conversion makes a temporary that only the native call still uses, and the GC may finalize it
/// during that call: we saw "Expected false to be true" from c10::Scalar::toDouble/toFloat, crashing an aggregator
/// (centered clipping) and an attacker (ALIE) mid-run. The numbers keep their C# type, so results are unchanged.
/// </summary>
public static class ScalarOps
{
    public static torch.Tensor MulBy_(this torch.Tensor t, double v)
    {
        using var s = v.ToScalar();
        return t.mul_(s);
    }

    public static torch.Tensor MulBy(this torch.Tensor t, double v)
    {
        using var s = v.ToScalar();
        return t.mul(s);
    }

    public static torch.Tensor DivBy_(this torch.Tensor t, double v)
    {
        using var s = v.ToScalar();
        return t.div_(s);
    }

    public static torch.Tensor DivBy_(this torch.Tensor t, long v)
    {
        using var s = v.ToScalar();
        return t.div_(s);
    }

    public static torch.Tensor AddNumber_(this torch.Tensor t, long v)
    {
        using var s = v.ToScalar();
        return t.add_(s);
    }

    /// <summary>t += alpha * other, in place.</summary>
    public static torch.Tensor AddScaled_(this torch.Tensor t, torch.Tensor other, double alpha)
    {
        using var s = alpha.ToScalar();
        return t.add_(other, alpha: s);
    }

    /// <summary>t + alpha * other, a new tensor.</summary>
    public static torch.Tensor AddScaled(this torch.Tensor t, torch.Tensor other, double alpha)
    {
        using var s = alpha.ToScalar();
        return t.add(other, alpha: s);
    }
}

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

    public static torch.Tensor ClampMax_(this torch.Tensor t, double v)
    {
        using var s = v.ToScalar();
        return t.clamp_max_(s);
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

    public static torch.Tensor AddNumber_(this torch.Tensor t, double v)
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

    // TorchSharp's add(Tensor) is add(other, alpha: 1) with an implicit temporary Scalar (we saw it finalized mid-call
    // in a transformer's residual add): these pass one Scalar that a static field keeps alive.
    private static readonly Scalar One = 1.ToScalar();

    /// <summary>0 as a Scalar that lives as long as the process (a temporary one can be finalized during the native call).</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary>t + other, a new tensor.</summary>
    public static torch.Tensor Plus(this torch.Tensor t, torch.Tensor other) => t.add(other, alpha: One);

    /// <summary>t / v, a new tensor.</summary>
    public static torch.Tensor DivBy(this torch.Tensor t, double v)
    {
        using var s = v.ToScalar();
        return t.div(s);
    }

    /// <summary>max(t, v) elementwise, a new tensor.</summary>
    public static torch.Tensor ClampMin(this torch.Tensor t, double v)
    {
        using var s = v.ToScalar();
        return t.clamp_min(s);
    }
}

/// <summary>
/// Leaky ReLU whose slope is a Scalar the module keeps alive. TorchSharp's own LeakyReLU module passes its slope as a
/// temporary Scalar that the GC may finalize during the native call: a GAN sweep failed there with c10's
/// "Expected false to be true" (Scalar::toDouble of a freed Scalar).
/// </summary>
public sealed class StableLeakyReLU(double slope) : torch.nn.Module<torch.Tensor, torch.Tensor>("leaky_relu")
{
    private readonly Scalar _slope = slope.ToScalar();

    public override torch.Tensor forward(torch.Tensor input) => input.leaky_relu(_slope);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _slope.Dispose();
        base.Dispose(disposing);
    }
}

namespace Actors.Learning.Pruning;

/// <summary>`pruning.type`.</summary>
public enum PruningType
{
    /// <summary>Dense training.</summary>
    None,

    /// <summary>Dynamic pruning with feedback: the gradient at the pruned model updates the dense weights (pruned ones too).</summary>
    Dpf,

    /// <summary>The same schedule without feedback: pruned weights stay at zero and receive no update.</summary>
    Magnitude,

    /// <summary>One-shot magnitude pruning to the target at <c>pruning.start</c>, then fine-tuning under that fixed mask.</summary>
    Static,
}

/// <summary>`pruning.scope`: one magnitude threshold over every prunable weight, or one per layer.</summary>
public enum PruningScope
{
    Global,
    Layer,
}

/// <summary>`pruning.schedule`: how the target sparsity ramps from 0 between <c>start</c> and <c>end-fraction</c> of training.</summary>
public enum PruningSchedule
{
    /// <summary>s_t = s (1 - (1 - p)^3), p the fraction of the ramp done (Zhu and Gupta 2017, as DPF uses it).</summary>
    Cubic,

    /// <summary>s_t = s p.</summary>
    Linear,
}

/// <summary>The `pruning.*` section (defaults as in the DPF paper: recompute every 16 steps, cubic ramp ending at 75%).</summary>
public sealed record PruningSettings(
    PruningType Type = PruningType.None,
    double Sparsity = 0.9,
    int Every = 16,
    PruningSchedule Schedule = PruningSchedule.Cubic,
    long Start = 0,
    double EndFraction = 0.75,
    PruningScope Scope = PruningScope.Global)
{
    public bool Enabled => Type != PruningType.None;

    /// <summary>The target sparsity at <paramref name="step"/> of a run of <paramref name="totalSteps"/>.</summary>
    public double TargetAt(long step, long totalSteps)
    {
        if (Type == PruningType.Static) return step >= Start ? Sparsity : 0;
        double end = Math.Max(Start + 1, EndFraction * totalSteps);
        double p = Math.Clamp((step - Start) / (end - Start), 0, 1);
        return Schedule == PruningSchedule.Cubic ? Sparsity * (1 - Math.Pow(1 - p, 3)) : Sparsity * p;
    }
}

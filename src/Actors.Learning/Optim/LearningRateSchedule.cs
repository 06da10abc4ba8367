namespace Actors.Learning.Optim;

/// <summary>`optimizer.lr-schedule`: the server's step size over the run.</summary>
public enum LearningRateShape
{
    /// <summary>lr at every step.</summary>
    Constant,

    /// <summary>lr (1 + cos(pi t / T)) / 2: from lr at step 0 to 0 at the last step (Loshchilov and Hutter 2017).</summary>
    Cosine,
}

/// <summary>The server's learning rate at each step of a run of <paramref name="totalSteps"/> steps.</summary>
public sealed record LearningRateSchedule(double Lr, LearningRateShape Shape = LearningRateShape.Constant, long TotalSteps = 1)
{
    /// <summary>The rate for the step that makes version <paramref name="version"/> + 1.</summary>
    public double At(long version) => Shape switch
    {
        LearningRateShape.Cosine => Lr * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp((double)version / Math.Max(1, TotalSteps), 0, 1))),
        _ => Lr,
    };
}

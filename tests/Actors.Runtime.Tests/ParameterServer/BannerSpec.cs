using Actors.Runtime.ParameterServer;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.ParameterServer;

public class BannerSpec
{
    [Fact]
    public void Async_with_high_momentum_and_no_staleness_weighting_gets_a_note_naming_the_remedy()
    {
        var kind = new ParameterServerKind();
        var note = kind.Banner(ExperimentKinds.Load(null, ["timing.mode=async", "optimizer.momentum=0.9"]));
        Assert.NotNull(note);
        Assert.Contains("timing.staleness-weighting = inverse", note, StringComparison.Ordinal);
        Assert.Null(kind.Banner(ExperimentKinds.Load(null, ["timing.mode=async", "optimizer.momentum=0.9", "timing.staleness-weighting=inverse"])));
        Assert.Null(kind.Banner(ExperimentKinds.Load(null, ["timing.mode=sync", "optimizer.momentum=0.9"])));
        Assert.Null(kind.Banner(ExperimentKinds.Load(null, ["timing.mode=async", "optimizer.momentum=0.5"])));
    }
}

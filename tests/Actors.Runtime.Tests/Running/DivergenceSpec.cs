using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;

namespace Actors.Runtime.Tests.Running;

public class DivergenceSpec
{
    private static ExperimentSpec Spec(params string[] overrides) => ExperimentKinds.Load(null, overrides);

    [Fact]
    public void A_run_whose_loss_fell_or_grew_less_than_tenfold_has_no_warning()
    {
        Assert.Null(Divergence.Describe(Spec(), 2.3, 0.4, 600));
        Assert.Null(Divergence.Describe(Spec(), 2.3, 22.9, 600)); // a bad run under attack, not a divergence
        Assert.Null(Divergence.Describe(Spec(), double.NaN, double.NaN, 600)); // no usable initial loss
    }

    [Fact]
    public void A_diverged_run_is_named_with_its_losses_and_the_lr_and_random_sparsifiers_get_the_ratio_hint()
    {
        var plain = Divergence.Describe(Spec("optimizer.lr=0.5"), 2.3026, 1e20, 300)!;
        Assert.Contains("training diverged: the test loss went from 2.303 at step 0 to 1E+20 at step 300", plain, StringComparison.Ordinal);
        Assert.Contains("optimizer.lr (now 0.5)", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("error feedback", plain, StringComparison.Ordinal);

        var sparse = Divergence.Describe(Spec("compression.type=random-block", "compression.ratio=0.01", "compression.error-feedback=on"), 2.3, double.NaN, 300)!;
        Assert.Contains("to NaN at step 300", sparse, StringComparison.Ordinal);
        Assert.Contains("once every 100 steps", sparse, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_diverging_run_says_so_in_summary_md_and_a_converging_one_does_not()
    {
        var (diverged, _) = await RunHelper.Run("optimizer.lr=5000", "experiment.steps=40");
        Assert.Contains("**Warning: training diverged", await File.ReadAllTextAsync(Path.Combine(diverged, "summary.md")), StringComparison.Ordinal);
        var (fine, _) = await RunHelper.Run("experiment.steps=40");
        Assert.DoesNotContain("Warning", await File.ReadAllTextAsync(Path.Combine(fine, "summary.md")), StringComparison.Ordinal);
    }
}

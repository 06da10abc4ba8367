namespace Actors.Runtime.Tests.Running;

/// <summary>
/// The CNN has dropout, which draws from torch's global generator: its masks must come from (batch, step), not from
/// whichever worker or run reached the generator first, or a run is not a function of its seed (the compression sweep
/// found CNN cells that differed only in bandwidth ending at different losses).
/// </summary>
/// <remarks>Torch's global generator belongs to the whole process: a test elsewhere in this assembly drawing from it (torch.randn
/// without a generator) while these runs seed it would make them differ for a reason the product does not have, so this
/// class runs alone (<see cref="GlobalGeneratorCollection"/>).</remarks>
[Collection(GlobalGeneratorCollection.Name)]
public sealed class DropoutDeterminismSpec
{
    [Fact(Timeout = 240_000)]
    public async Task Two_cnn_runs_at_once_give_the_same_rows()
    {
        // Synthetic 28x28 inputs and a small test set: the property is the masks', not the data's, and Fashion-MNIST's 10,000
        // test images made this test take minutes when the test assemblies share the cores.
        string[] cnn = ["data.dataset=synthetic", "data.synthetic.features=784", "data.synthetic.train=512", "data.synthetic.test=64", "model.type=cnn",
            "workers.honest=4", "data.batch-size=16", "experiment.steps=4", "experiment.eval-every=4", "timing.compression-cost=none"];
        var runs = await Task.WhenAll(RunHelper.Run(cnn), RunHelper.Run([.. cnn, "timing.bandwidth-mbps=10"]));
        string[] Learning(string dir) => [.. File.ReadLines(Path.Combine(dir, "metrics.csv")).Select(l => string.Join(',', l.Split(',')[..4]))];
        Assert.Equal(Learning(runs[0].Dir), Learning(runs[1].Dir)); // loss, accuracy and updates identical; only the clock differs
        Assert.NotEqual(runs[0].Summary.D("virtual_time_s"), runs[1].Summary.D("virtual_time_s"));
    }
}

/// <summary>Tests that need torch's global generator to themselves: xunit runs this collection with no other test at the same time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalGeneratorCollection
{
    public const string Name = "torch's global generator";
}

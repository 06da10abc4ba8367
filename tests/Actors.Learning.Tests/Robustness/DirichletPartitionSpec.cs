using Actors.Learning.Data;

namespace Actors.Learning.Tests.Robustness;

public class DirichletPartitionSpec
{
    private static readonly int[] Labels = Enumerable.Range(0, 2000).Select(i => i * 7 % 10).ToArray();

    private static double ClassesPerWorker(long[][] parts, int honest) =>
        parts.Take(honest).Average(p => p.Select(i => Labels[i]).Distinct().Count());

    [Fact]
    public void Dirichlet_gives_every_honest_sample_to_exactly_one_honest_worker_reproducibly()
    {
        var a = Partitioner.Split(Labels, "dirichlet", 20, 5, new Random(4), dirichletAlpha: 0.5);
        var b = Partitioner.Split(Labels, "dirichlet", 20, 5, new Random(4), dirichletAlpha: 0.5);
        Assert.Equal(25, a.Length);
        Assert.Equal(a.Select(p => p.ToArray()), b.Select(p => p.ToArray()));
        var honest = a.Take(20).SelectMany(p => p).ToList();
        Assert.Equal(Labels.Length, honest.Count);
        Assert.Equal(Labels.Length, honest.Distinct().Count());
        Assert.All(a, p => Assert.NotEmpty(p));
        // Byzantine workers: iid samples of the whole set, n / (honest + byzantine) each.
        Assert.All(a.Skip(20), p => Assert.Equal(2000 / 25, p.Length));
    }

    [Fact]
    public void Small_alpha_concentrates_classes_and_large_alpha_approaches_iid()
    {
        var skewed = Partitioner.Split(Labels, "dirichlet", 20, 0, new Random(1), dirichletAlpha: 0.1);
        var mixed = Partitioner.Split(Labels, "dirichlet", 20, 0, new Random(1), dirichletAlpha: 100);
        Assert.True(ClassesPerWorker(skewed, 20) < 4, $"alpha 0.1: {ClassesPerWorker(skewed, 20)} classes per worker");
        Assert.True(ClassesPerWorker(mixed, 20) > 9, $"alpha 100: {ClassesPerWorker(mixed, 20)} classes per worker");
        Assert.All(skewed, p => Assert.NotEmpty(p));
    }

    [Fact]
    public void Dirichlet_samples_are_proportions_and_bad_alpha_is_rejected()
    {
        var p = Partitioner.SampleDirichlet(10, 0.3, new Random(2));
        Assert.Equal(1, p.Sum(), 9);
        Assert.All(p, x => Assert.True(x >= 0));
        double mean = Enumerable.Range(0, 4000).Select(i => Partitioner.SampleGamma(2.5, new Random(i))).Average();
        Assert.Equal(2.5, mean, 0.15);
        var m = Assert.Throws<ArgumentException>(() => Partitioner.Split(Labels, "dirichlet", 4, 0, new Random(1), dirichletAlpha: 0)).Message;
        Assert.Contains("data.dirichlet-alpha = 0", m);
    }
}

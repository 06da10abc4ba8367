using Actors.Learning.Compression;
using Actors.Learning.Gossip;
using Actors.Learning.Problems;
using TorchSharp;
using Xunit.Abstractions;

namespace Actors.Learning.Tests.Gossip;

/// <summary>ALGORITHMS.md section 7: compressed messages, linear convergence to the exact optimum.</summary>
public class LeadSpec(ITestOutputHelper output)
{
    private const int Nodes = 8;

    [Fact]
    public void Lead_with_unbiased_randk_converges_linearly_while_dsgd_and_choco_plateau()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var ring = StaticTopology.Ring(Nodes);
        Assert.True(problem.OptimumGradientNorm < 1e-11);

        // rand-k, 3 of 10 coordinates, scaled by d/k: omega = d/k - 1, a = 1 / (1 + omega) = 0.3; eta = 0.3, gamma = 0.1.
        var lead = Run(problem, ring, new GossipSettings("lead", 0.3, Gamma: 0.1, Alpha: 0.3), 400, unbiased: true);
        // Same step, uncompressed D-SGD, and CHOCO with the same compression budget (contractive rand-k).
        var dsgd = Run(problem, ring, new GossipSettings("dsgd", 0.3), 200, unbiased: false);
        var choco = Run(problem, ring, new GossipSettings("choco", 0.3, Gamma: 0.3), 200, unbiased: false);
        output.WriteLine($"after 400 steps LEAD {lead[^1].Suboptimality:E2}; plateaus: D-SGD {dsgd[^1].Suboptimality:E2}, CHOCO {choco[^1].Suboptimality:E2}");

        Assert.True(lead.First(r => r.Step == 200).Suboptimality <= 1e-8, "LEAD should pass 1e-8 within 200 steps");
        Assert.True(lead[^1].Suboptimality <= 1e-10);

        // A straight line in log scale: fit log10(subopt) on steps 50..400; the slope is steady (halves agree) and the fit tight.
        var points = lead.Where(r => r.Step >= 50).Select(r => (x: (double)r.Step, y: Math.Log10(r.Suboptimality))).ToArray();
        var (slope, r2) = Fit(points);
        var (firstHalf, _) = Fit(points.Where(p => p.x <= 225).ToArray());
        var (secondHalf, _) = Fit(points.Where(p => p.x >= 225).ToArray());
        output.WriteLine($"LEAD log10 slope per 100 steps: {100 * slope:F2} (first half {100 * firstHalf:F2}, second {100 * secondHalf:F2}), R^2 = {r2:F3}");
        Assert.True(slope < -1.0 / 100, "at least a decade per 100 steps");
        Assert.True(r2 > 0.95, $"log-suboptimality should be linear in steps (R^2 = {r2})");
        Assert.InRange(firstHalf / secondHalf, 0.5, 2.0);

        foreach (var (name, run) in new[] { ("D-SGD", dsgd), ("CHOCO", choco) })
        {
            double last = run[^1].Suboptimality, earlier = run.First(r => r.Step == 150).Suboptimality;
            Assert.True(last > 1e-5, $"{name} with a constant step should plateau well above LEAD, got {last:E2}");
            Assert.InRange(last / earlier, 0.9, 1.1);
            Assert.True(last > 1e5 * lead[^1].Suboptimality);
        }
        Assert.True(lead[^1].BytesSent / 400.0 < 0.5 * (dsgd[^1].BytesSent / 200.0), "LEAD sends under half the bytes per step");
    }

    [Fact]
    public void Lead_with_qsgd_reaches_1e_8()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        // 4-level QSGD on d = 20: omega = min(d / s^2, sqrt(d) / s) = 1.12, a = 1 / (1 + omega) = 0.47.
        var lead = Run(problem, StaticTopology.Ring(Nodes), new GossipSettings("lead", 0.3, Gamma: 0.1, Alpha: 0.47), 200, compressor: _ => new TestQsgd(4));
        output.WriteLine($"LEAD + QSGD after 200 steps: {lead[^1].Suboptimality:E2}");
        Assert.True(lead[^1].Suboptimality <= 1e-8);
    }

    [Fact]
    public void Lead_still_converges_to_the_exact_optimum_when_nodes_leave_and_rejoin()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float64);
        var churn = new ChurnTopology(StaticTopology.Ring(Nodes), new ChurnSchedule(LeaveEvery: 50, DownFor: 10, Fraction: 0.125), seed: 1);
        var lead = Run(problem, churn, new GossipSettings("lead", 0.3, Gamma: 0.1, Alpha: 0.3), 300, unbiased: true);
        output.WriteLine($"LEAD on a churning ring after 300 steps: {lead[^1].Suboptimality:E2}");
        Assert.True(lead[^1].Suboptimality <= 1e-8);
    }

    [Fact]
    public void Lead_runs_in_float32_too()
    {
        using var problem = GossipFixtures.SmallLogistic(torch.float32);
        var lead = Run(problem, StaticTopology.Ring(Nodes), new GossipSettings("lead", 0.3, Gamma: 0.1, Alpha: 0.3), 200, unbiased: true);
        output.WriteLine($"float32 LEAD after 200 steps: {lead[^1].Suboptimality:E2}");
        Assert.True(lead[^1].Suboptimality < 1e-5);
    }

    private static IReadOnlyList<GossipStepRecord> Run(IDecentralizedProblem problem, ITopology topology, GossipSettings settings, int steps,
        bool unbiased = true, Func<int, ICompressor>? compressor = null)
    {
        using var sim = new GossipSimulation(problem, topology, settings, compressor ?? (_ => new TestRandK(0.3, unbiased)));
        return sim.Run(steps, recordEvery: 25);
    }

    private static (double Slope, double R2) Fit((double x, double y)[] p)
    {
        double mx = p.Average(q => q.x), my = p.Average(q => q.y);
        double sxy = p.Sum(q => (q.x - mx) * (q.y - my)), sxx = p.Sum(q => (q.x - mx) * (q.x - mx)), syy = p.Sum(q => (q.y - my) * (q.y - my));
        double slope = sxy / sxx;
        return (slope, sxy * sxy / (sxx * syy));
    }
}

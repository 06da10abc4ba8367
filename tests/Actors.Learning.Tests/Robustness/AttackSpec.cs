using Actors.Learning.Attacks;
using TorchSharp;
using static Actors.Learning.Tests.Robustness.RobustAggregatorSpec;

namespace Actors.Learning.Tests.Robustness;

public class AttackSpec
{
    private static AttackContext Ctx(torch.Tensor own, IReadOnlyList<torch.Tensor> honest, long round = 0, int n = 25, int f = 5, int seed = 1) =>
        new(own, honest, n, f, round, new Random(seed));

    private static void Near(double[] expected, torch.Tensor actual, double tol = 1e-5)
    {
        var a = Values(actual);
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(expected[i] - a[i]) <= tol, $"[{i}] expected {expected[i]}, got {a[i]}");
    }

    [Theory]
    [InlineData("alie")]
    [InlineData("ipm")]
    [InlineData("last-mover")]
    [InlineData("mimic")]
    [InlineData("bitflip")]
    [InlineData("gaussian")]
    [InlineData("drift")]
    public void An_attack_shared_among_colluders_crafts_the_same_vector_whatever_the_colluder_and_its_history(string type)
    {
        var first = AttackFactory.Create(new AttackSettings(type), 25, 5)!;
        var second = AttackFactory.Create(new AttackSettings(type), 25, 5)!;
        if (!first.SameForAllColluders) return; // crafted per worker: nothing is shared
        using var ownA = V(1, 2, 3);
        using var ownB = V(-5, 0, 7);
        // Worker 0 stands out in round 0, worker 2 in round 1 (what a stateful attack like mimic would latch on to).
        List<torch.Tensor> round0 = [V(10, 0, 0), V(0, 0.1f, 0), V(0, 0, 0.1f)];
        List<torch.Tensor> round1 = [V(0.1f, 0, 0), V(0, 0.1f, 0), V(0, 0, 10)];
        // The first colluder also crafted round 0; the second crafts round 1 only, from another own vector.
        using (first.Craft(Ctx(ownA, round0, round: 0, seed: 7))) { }
        using var a = first.Craft(Ctx(ownA, round1, round: 1, seed: 8));
        using var b = second.Craft(Ctx(ownB, round1, round: 1, seed: 8));
        Assert.Equal(Values(a), Values(b));
        round0.ForEach(t => t.Dispose());
        round1.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Only_stateless_attacks_on_the_honest_vectors_are_shared_among_colluders()
    {
        bool Shared(string type) => AttackFactory.Create(new AttackSettings(type), 25, 5)!.SameForAllColluders;
        Assert.True(Shared("alie") && Shared("ipm") && Shared("last-mover"));
        Assert.False(Shared("mimic")); // keeps the target it chose in its first round
        Assert.False(Shared("bitflip") || Shared("labelflip") || Shared("gaussian") || Shared("drift") || Shared("stale-replay"));
    }

    [Fact]
    public void Alie_z_is_0_2533_for_n_25_f_5()
    {
        // s = floor(25/2 + 1) - 5 = 8, (n - f - s)/(n - f) = 12/20 = 0.6, Phi^-1(0.6) = 0.2533471.
        Assert.Equal(0.2533471031357998, Alie.DefaultZ(25, 5), 1e-12);
        Assert.Equal(0.2533471031, ((Alie)AttackFactory.Create(new AttackSettings("alie"), 25, 5)!).Z, 8);
        Assert.Equal(1.5, ((Alie)AttackFactory.Create(new AttackSettings("alie", Z: 1.5), 25, 5)!).Z);
    }

    [Fact]
    public void Inverse_normal_cdf_is_accurate_in_the_centre_and_the_tails()
    {
        // Reference values: Python's statistics.NormalDist().inv_cdf (Wichura AS241).
        Assert.Equal(0, NormalDistribution.InverseCdf(0.5), 1e-15);
        Assert.Equal(0.2533471031357998, NormalDistribution.InverseCdf(0.6), 1e-13);
        Assert.Equal(1.959963984540054, NormalDistribution.InverseCdf(0.975), 1e-13);
        Assert.Equal(-2.326347874040841, NormalDistribution.InverseCdf(0.01), 1e-12);
        Assert.Equal(-4.753424308822899, NormalDistribution.InverseCdf(1e-6), 1e-10);
        Assert.Equal(8.209536151601387, NormalDistribution.InverseCdf(1 - 1.1102230246251565e-16), 1e-6);
        Assert.Equal(-NormalDistribution.InverseCdf(0.3), NormalDistribution.InverseCdf(0.7), 1e-14);
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalDistribution.InverseCdf(1));
    }

    [Fact]
    public void Alie_sends_mu_minus_z_sigma_of_the_honest_vectors()
    {
        using var own = V(0, 0);
        List<torch.Tensor> h = [V(1, 0), V(3, 2)];
        // mu = (2, 1); unbiased sigma = sqrt(2) per coordinate; z = 1.
        using var v = new Alie(1).Craft(Ctx(own, h));
        Near([2 - Math.Sqrt(2), 1 - Math.Sqrt(2)], v);
        h.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Ipm_sends_minus_eps_times_the_honest_mean()
    {
        using var own = V(0, 0);
        List<torch.Tensor> h = [V(1, 2), V(3, 4)];
        using var v = new Ipm(0.1).Craft(Ctx(own, h));
        Near([-0.2, -0.3], v);
        using var big = new Ipm(100).Craft(Ctx(own, h));
        Near([-200, -300], big, 1e-3);
        h.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Bitflip_sends_minus_g_and_labelflip_trains_on_9_minus_y_both_without_momentum()
    {
        using var g = V(1, -2, 3);
        var bf = new BitFlip();
        using var v = bf.Craft(Ctx(g, []));
        Near([-1, 2, -3], v);
        Assert.True(((IAttack)bf).SendsRawGradient);
        IAttack lf = new LabelFlip();
        Assert.True(lf.SendsRawGradient);
        using var y = torch.tensor(new long[] { 0, 3, 9 });
        using var flipped = lf.LabelMap!(y);
        Assert.Equal([9L, 6L, 0L], flipped.data<long>().ToArray());
        Assert.Equal([0L, 3L, 9L], y.data<long>().ToArray());
        using var sent = lf.Craft(Ctx(g, []));
        Near([1, -2, 3], sent);
    }

    [Fact]
    public void Mimic_copies_the_worker_best_aligned_with_the_top_principal_direction_every_round()
    {
        // Centered around mu = (0.25, 0): the spread is along the first axis, and worker 0 lies farthest along it.
        List<torch.Tensor> h = [V(4, 0), V(-3, 0), V(0, 1), V(0, -1)];
        using var own = V(0, 0);
        var mimic = new Mimic();
        using var first = mimic.Craft(Ctx(own, h, round: 0));
        Assert.Equal(0, mimic.Target);
        Near([4, 0], first);
        List<torch.Tensor> next = [V(7, 7), V(1, 1), V(2, 2), V(3, 3)];
        using var second = mimic.Craft(Ctx(own, next, round: 1));
        Near([7, 7], second);
        Assert.Equal(0, mimic.Target);
        h.Concat(next).ToList().ForEach(t => t.Dispose());
    }

    [Fact]
    public void Gaussian_noise_is_seeded_with_standard_deviation_sigma()
    {
        using var own = torch.zeros(20000);
        using var a = new GaussianNoise(2).Craft(Ctx(own, [], seed: 5));
        using var b = new GaussianNoise(2).Craft(Ctx(own, [], seed: 5));
        Assert.Equal(Values(a), Values(b));
        Assert.Equal(2, a.std().item<float>(), 1);
        Assert.Equal(0, a.mean().item<float>(), 1);
    }

    [Fact]
    public void Drift_adds_the_same_small_direction_every_round()
    {
        using var drift = new Drift(0.1);
        var rng = new Random(3);
        List<torch.Tensor> r0 = [V(3, 4, 0), V(3, 4, 0)];
        List<torch.Tensor> r1 = [V(0, 0, 10), V(0, 0, 10)];
        using var own = V(0, 0, 0);
        using var m0 = drift.Craft(new AttackContext(own, r0, 25, 5, 0, rng));
        using var m1 = drift.Craft(new AttackContext(own, r1, 25, 5, 1, rng));
        using var d0 = m0 - r0[0];
        using var d1 = m1 - r1[0];
        // |bias| = eps * |honest mean| (0.5 then 1.0), in one fixed unit direction.
        Assert.Equal(0.5, d0.norm().item<float>(), 4);
        Assert.Equal(1.0, d1.norm().item<float>(), 4);
        Near(Values(d0).Select(x => 2.0 * x).ToArray(), d1, 1e-4);
        r0.Concat(r1).ToList().ForEach(t => t.Dispose());
    }

    [Fact]
    public void Stale_replay_sends_the_vector_from_lag_rounds_ago()
    {
        using var replay = new StaleReplay(lag: 2);
        var sent = new List<float>();
        for (int round = 0; round < 5; round++)
        {
            using var own = V(round + 1);
            using var v = replay.Craft(Ctx(own, [], round));
            sent.Add(Values(v)[0]);
        }
        Assert.Equal([1f, 1f, 1f, 2f, 3f], sent);
    }

    [Fact]
    public void Last_mover_crafts_alie_against_the_honest_round_and_flood_sends_rate_messages()
    {
        var lm = AttackFactory.Create(new AttackSettings("last-mover"), 25, 5)!;
        Assert.True(lm.WaitsForHonestRound);
        Assert.True(lm.NeedsHonestVectors);
        List<torch.Tensor> h = [V(1, 0), V(3, 2)];
        using var own = V(0, 0);
        using var v = lm.Craft(Ctx(own, h));
        double z = Alie.DefaultZ(25, 5);
        Near([2 - z * Math.Sqrt(2), 1 - z * Math.Sqrt(2)], v);

        var flood = AttackFactory.Create(new AttackSettings("flood", Rate: 3), 25, 5)!;
        Assert.Equal(3, flood.MessagesPerRound);
        var all = flood.CraftMessages(Ctx(own, h));
        Assert.Equal(3, all.Count);
        Assert.All(all, m => Assert.Equal([0f, 0f], Values(m)));
        using var g = V(1, 2);
        var many = flood.CraftMessages(Ctx(g, h));
        Assert.All(many, m => Assert.Equal([-1f, -2f], Values(m)));
        h.Concat(all).Concat(many).ToList().ForEach(t => t.Dispose());
    }

    [Fact]
    public void Omniscient_attacks_without_honest_vectors_fail_clearly()
    {
        using var own = V(1);
        var e = Assert.Throws<InvalidOperationException>(() => new Ipm().Craft(Ctx(own, [])));
        Assert.Contains("attack.omniscient", e.Message);
    }

    [Fact]
    public void Factory_maps_names_and_reports_bad_settings()
    {
        Assert.Null(AttackFactory.Create(new AttackSettings("none"), 25, 5));
        foreach (var type in AttackFactory.Types.Where(t => t != "none"))
        {
            Assert.Equal(type, AttackFactory.Create(new AttackSettings(type), 25, 5)!.Name);
        }
        var m = Assert.Throws<ArgumentException>(() => AttackFactory.Create(new AttackSettings("sybil"), 25, 5)).Message;
        Assert.Contains("'sybil'", m);
        Assert.Contains("bitflip, labelflip, ipm, alie", m);
        Assert.Contains("attack.eps = 0", Assert.Throws<ArgumentException>(() => AttackFactory.Create(new AttackSettings("ipm", Eps: 0), 25, 5)).Message);
        Assert.Contains("attack.lag = 0", Assert.Throws<ArgumentException>(() => AttackFactory.Create(new AttackSettings("stale-replay", Lag: 0), 25, 5)).Message);
        Assert.Contains("attack.base = 'mimic'", Assert.Throws<ArgumentException>(() => AttackFactory.Create(new AttackSettings("last-mover", Base: "mimic"), 25, 5)).Message);
        Assert.Contains("set attack.z", Assert.Throws<ArgumentException>(() => AttackFactory.Create(new AttackSettings("alie"), 4, 3)).Message);
    }
}

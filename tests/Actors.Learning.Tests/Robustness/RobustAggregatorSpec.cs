using Actors.Learning.Aggregation;
using TorchSharp;

namespace Actors.Learning.Tests.Robustness;

public class RobustAggregatorSpec
{
    internal static torch.Tensor V(params float[] values) => torch.tensor(values);

    internal static float[] Values(torch.Tensor t) => t.data<float>().ToArray();

    internal static AggregationContext Ctx(int n, int f = 0, int seed = 1) => new(n, f, 0, new Random(seed));

    private static void Near(double[] expected, torch.Tensor actual, double tol = 1e-5)
    {
        var a = Values(actual);
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(expected[i] - a[i]) <= tol, $"[{i}] expected {expected[i]}, got {a[i]}");
    }

    [Fact]
    public void Median_is_coordinatewise_and_averages_the_two_middle_values_for_even_n()
    {
        using var a = V(1, 10, 3);
        using var b = V(2, -1, 5);
        using var c = V(100, 0, 4);
        using var z = V(0, 0, 0);
        using var odd = new CoordinateWiseMedian().Aggregate([a, b, c], Ctx(3));
        Near([2, 0, 4], odd);
        using var even = new CoordinateWiseMedian().Aggregate([a, b, c, z], Ctx(4));
        Near([1.5, 0, 3.5], even);
    }

    [Fact]
    public void Trimmed_mean_drops_the_b_largest_and_b_smallest_per_coordinate()
    {
        float[][] rows = [[1, 5], [2, 5], [3, 5], [100, 5], [-50, 7]];
        var inputs = rows.Select(r => V(r)).ToList();
        using var m = new TrimmedMean(1).Aggregate(inputs, Ctx(5));
        Near([2, 5], m);
        using var m2 = new TrimmedMean(2).Aggregate(inputs, Ctx(5));
        Near([2, 5], m2);
        inputs.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Median_and_trimmed_mean_equal_sorting_on_random_inputs_with_ties()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 40; trial++)
        {
            int n = 1 + rng.Next(12), d = 37, b = rng.Next((n + 1) / 2);
            var rows = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => (float)rng.Next(-4, 5)).ToArray()).ToArray();
            var x = rows.Select(r => V(r)).ToList();
            using var med = new CoordinateWiseMedian().Aggregate(x, Ctx(n));
            using var tm = new TrimmedMean(b).Aggregate(x, Ctx(n));
            for (int j = 0; j < d; j++)
            {
                var col = rows.Select(r => (double)r[j]).Order().ToArray();
                double median = n % 2 == 1 ? col[n / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
                Assert.Equal(median, Values(med)[j], 5);
                Assert.Equal(col.Skip(b).Take(n - 2 * b).Average(), Values(tm)[j], 5);
            }
            x.ForEach(t => t.Dispose());
        }
    }

    private static List<torch.Tensor> KrumPoints() =>
        [V(0, 0), V(1, 0), V(2, 0), V(4, 0), V(100, 100)];

    [Fact]
    public void Krum_picks_the_input_with_the_smallest_sum_over_its_n_minus_f_minus_2_nearest()
    {
        // f = 1, n = 5: 2 nearest. Scores: 0 -> 1+4 = 5, 1 -> 1+1 = 2, 2 -> 1+4 = 5, 3 -> 4+9 = 13, 4 -> huge.
        var x = KrumPoints();
        using var k = new Krum(f: 1).Aggregate(x, Ctx(5, 1));
        Near([1, 0], k);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Multi_krum_averages_the_m_best_scored_inputs_lowest_index_first_on_ties()
    {
        // m = 3: index 1 (2), then the tie 0/2 (5, 5): both taken -> mean of 0, 1, 2.
        var x = KrumPoints();
        using var k3 = new Krum(f: 1, m: 3).Aggregate(x, Ctx(5, 1));
        Near([1, 0], k3);
        // m = 2: index 1 and, of the tie, index 0.
        using var k2 = new Krum(f: 1, m: 2).Aggregate(x, Ctx(5, 1));
        Near([0.5, 0], k2);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Gram_accumulated_over_column_blocks_equals_the_inner_products()
    {
        var rng = new Random(5);
        var rows = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, 10).Select(_ => (float)rng.Next(-3, 4)).ToArray()).ToArray();
        var x = rows.Select(r => V(r)).ToList();
        var g = Gram.Of(x, blockColumns: 3);
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++) Assert.Equal(rows[i].Zip(rows[j], (a, b) => (double)a * b).Sum(), g.G[i, j], 9);
        }
        Assert.Equal(rows[0].Zip(rows[1], (a, b) => (double)(a - b) * (a - b)).Sum(), g.SquaredDistance(0, 1), 9);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Rfa_is_smoothed_weiszfeld_from_zero()
    {
        // 1-D points 0, 1, 10. T = 1 by hand: betas 1/max(0, 0.1) = 10, 1, 1/10 -> z = (1 + 1) / 11.1.
        List<torch.Tensor> x = [V(0), V(1), V(10)];
        using var one = new Rfa(iterations: 1).Aggregate(x, Ctx(3));
        Near([2 / 11.1], one);
        // T = 8 (default): the iterates approach the geometric median 1 (value from the direct iteration on the points).
        using var eight = new Rfa().Aggregate(x, Ctx(3));
        Near([0.9999472148], eight);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void CenteredClipping_one_step_by_hand()
    {
        // tau = 1, v = 0: distances 0, 5, 0.5 -> weights 1, 1/5, 1 -> v = ((0,0) + (3,4)/5 + (0,0.5)) / 3.
        using var cc = new CenteredClipping(tau: 1, iterations: 1);
        List<torch.Tensor> x = [V(0, 0), V(3, 4), V(0, 0.5f)];
        using var v = cc.Aggregate(x, Ctx(3));
        Near([0.2, 1.3 / 3], v);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void CenteredClipping_keeps_center_across_rounds()
    {
        List<torch.Tensor> x = [V(0, 0), V(3, 4), V(0, 0.5f)];
        using var cc = new CenteredClipping(tau: 1, iterations: 1);
        cc.Aggregate(x, Ctx(3)).Dispose();
        using var second = cc.Aggregate(x, Ctx(3));
        // Round 2 starts from v = (0.2, 0.4333): weights 1, 1/4.53443, 1 (by hand: v + (0.0725, 0.13997)).
        var v = new[] { 0.2, 1.3 / 3 };
        double[] sum = [0, 0];
        foreach (var p in new[] { new[] { 0.0, 0 }, [3, 4], [0, 0.5] })
        {
            double dx = p[0] - v[0], dy = p[1] - v[1], c = Math.Min(1, 1 / Math.Sqrt(dx * dx + dy * dy));
            sum[0] += c * dx;
            sum[1] += c * dy;
        }
        Near([v[0] + sum[0] / 3, v[1] + sum[1] / 3], second);
        Near([0.272499, 0.573302], second);
        using var center = cc.Center!;
        Assert.Equal(Values(second), Values(center));
        // A fresh instance starts again from 0.
        using var fresh = new CenteredClipping(tau: 1, iterations: 1);
        using var first = fresh.Aggregate(x, Ctx(3));
        Near([0.2, 1.3 / 3], first);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void CenteredClipping_with_several_iterations_matches_the_direct_formula()
    {
        var rng = new Random(3);
        var pts = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)(rng.NextDouble() * 10 - 5)).ToArray()).ToArray();
        var x = pts.Select(p => V(p)).ToList();
        using var cc = new CenteredClipping(tau: 2, iterations: 3);
        using var got = cc.Aggregate(x, Ctx(6));
        var v = new double[4];
        for (int l = 0; l < 3; l++)
        {
            var next = (double[])v.Clone();
            foreach (var p in pts)
            {
                double norm = Math.Sqrt(p.Select((pi, j) => (pi - v[j]) * (pi - v[j])).Sum());
                double c = Math.Min(1, 2 / norm);
                for (int j = 0; j < 4; j++) next[j] += c * (p[j] - v[j]) / 6;
            }
            v = next;
        }
        Near(v, got, 1e-4);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void CenteredClipping_async_variant_divides_by_the_expected_n()
    {
        // Two of four workers reported; tau is large so nothing is clipped: v = (x0 + x1) / 4.
        using var cc = new CenteredClipping(tau: 100, iterations: 1, divideByExpected: true);
        List<torch.Tensor> x = [V(4, 8), V(8, 4)];
        using var v = cc.Aggregate(x, Ctx(4));
        Near([3, 3], v);
        using var sync = new CenteredClipping(tau: 100, iterations: 1);
        using var w = sync.Aggregate(x, Ctx(4));
        Near([6, 6], w);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Bucketing_feeds_the_means_of_shuffled_pairs_to_the_inner_rule()
    {
        var recorder = new Recorder();
        var bucketing = new Bucketing(recorder, 2);
        List<torch.Tensor> x = [V(0), V(10), V(20), V(30), V(40)];
        bucketing.Aggregate(x, Ctx(5, 1, seed: 7)).Dispose();
        // Seed 7 shuffles 0..4 (Fisher-Yates, System.Random(7)) into [2, 0, 4, 3, 1]: buckets {20, 0}, {40, 30}, {10}.
        Assert.Equal([2, 0, 4, 3, 1], bucketing.Buckets(5, new Random(7)).SelectMany(b => b).ToArray());
        Assert.Equal([10f, 35f, 10f], recorder.Seen.Select(t => t[0]).ToArray());
        Assert.Equal(3, recorder.N);
        Assert.Equal(1, recorder.F);
        x.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Bucketing_runs_krum_on_ceil_n_over_s_buckets_with_the_original_f()
    {
        var agg = AggregatorFactory.Create(new AggregatorSettings("krum", BucketSize: 2), n: 25, f: 5);
        var b = Assert.IsType<Bucketing>(agg);
        Assert.Equal(5, Assert.IsType<Krum>(b.Inner).F);
        var x = Enumerable.Range(0, 25).Select(i => V(i % 3, 1)).ToList();
        using var r = agg.Aggregate(x, Ctx(25, 5));
        Assert.All(Values(r), v => Assert.True(float.IsFinite(v)));
        x.ForEach(t => t.Dispose());
    }

    public static TheoryData<string> AllTypes() => new(AggregatorFactory.Types);

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Non_finite_inputs_are_dropped_counted_and_never_propagated(string type)
    {
        foreach (int bucket in new[] { 0, 2 })
        {
            var agg = AggregatorFactory.Create(new AggregatorSettings(type, BucketSize: bucket, M: 1), n: 9, f: 1);
            var clean = agg is Bucketing ? null : AggregatorFactory.Create(new AggregatorSettings(type, M: 1), n: 9, f: 1);
            List<torch.Tensor> x = [V(1, 2), V(float.NaN, 0), V(2, 1), V(0, float.PositiveInfinity), V(1.5f, 1.5f), V(2, 2), V(1, 1)];
            var before = x.Select(Values).ToList();
            var ctx = Ctx(9, 1);
            using var r = agg.Aggregate(x, ctx);
            Assert.All(Values(r), v => Assert.True(float.IsFinite(v), $"{type}: non-finite output"));
            Assert.Equal(2, ctx.Dropped[RobustInputs.NonFinite]);
            for (int i = 0; i < x.Count; i++) Assert.Equal(before[i], Values(x[i]));
            if (clean is not null)
            {
                using var expected = clean.Aggregate([x[0], x[2], x[4], x[5], x[6]], Ctx(9, 1));
                Assert.Equal(Values(expected), Values(r));
            }
            x.ForEach(t => t.Dispose());
            (agg as IDisposable)?.Dispose();
            (clean as IDisposable)?.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void All_non_finite_gives_a_finite_empty_round_answer(string type)
    {
        var agg = AggregatorFactory.Create(new AggregatorSettings(type), n: 5, f: 1);
        List<torch.Tensor> x = [V(float.NaN, 0), V(0, float.NegativeInfinity)];
        var ctx = Ctx(5, 1);
        using var r = agg.Aggregate(x, ctx);
        Assert.Equal([0f, 0f], Values(r));
        Assert.Equal(2, ctx.Dropped[RobustInputs.NonFinite]);
        x.ForEach(t => t.Dispose());
    }

    private sealed class Recorder : IAggregator
    {
        public List<float[]> Seen { get; } = [];
        public int N { get; private set; }
        public int F { get; private set; }
        public string Name => "recorder";

        public torch.Tensor Aggregate(IReadOnlyList<torch.Tensor> updates, AggregationContext context)
        {
            Seen.AddRange(updates.Select(Values));
            N = context.N;
            F = context.F;
            return updates[0].clone();
        }
    }
}

using Actors.Learning.Compression;
using Actors.Learning.Gossip;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Gossip;
using Actors.Runtime.ParameterServer;
using Actors.Runtime.Running;
using Actors.Runtime.Tests.Running;
using Xunit.Abstractions;

namespace Actors.Runtime.Tests.Gossip;

/// <summary>`actors run` with experiment.kind = gossip: PeerActors and a TopologyActor in virtual time.</summary>
public class GossipRunSpec(ITestOutputHelper output)
{
    /// <summary>The lead-logreg experiment, small: 8-node ring, 50 x 9 features per node, float64, exact local gradients.</summary>
    private static readonly string[] Lead =
    [
        "experiment.kind=gossip", "data.dataset=synthetic", "data.batch-size=0", "data.synthetic.train=400", "data.synthetic.test=500",
        "data.synthetic.features=9", "data.synthetic.classes=2", "data.synthetic.heterogeneity=0.5", "model.type=logreg", "model.l2=0.1",
        "model.dtype=float64", "optimizer.lr=0.3", "compression.type=randk", "compression.ratio=0.3", "topology.type=ring", "topology.nodes=8",
        "gossip.algorithm=lead", "gossip.gamma=0.1", "gossip.alpha=0.3", "experiment.eval-every=50",
    ];

    private static readonly string[] Choco = [.. Lead, "gossip.algorithm=choco", "compression.scaling=contractive", "gossip.gamma=0.3"];

    private static ExperimentSpec Spec(string[] overrides) => ExperimentKinds.Load(null, overrides);

    private static async Task<(string Dir, System.Text.Json.Nodes.JsonObject Summary)> Run(params string[] overrides)
    {
        var spec = Spec(overrides);
        var dir = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
        var result = await ExperimentRunner.Run(spec, dir, new RunProgress(spec.Steps), _ => { });
        return (dir, result.Summary);
    }

    /// <summary>The synchronous driver on the same problem, topology, settings and compressors as the actor run.</summary>
    private static IReadOnlyList<GossipStepRecord> Driver(ExperimentSpec spec, int steps, int every)
    {
        using var parts = GossipParts.Build(spec, _ => { });
        var compression = spec.Compression;
        using var sim = new GossipSimulation(parts.Problem, parts.Topology, parts.Settings,
            i => Compressors.Create(compression, (long)Seeds.Derive(spec.Seed, "gossip-compressor", i)));
        return sim.Run(steps, every);
    }

    [Fact]
    public async Task Lead_through_actors_reaches_1e_8_and_matches_the_synchronous_driver()
    {
        string[] o = [.. Lead, "experiment.steps=200"];
        var (dir, s) = await Run(o);
        var reference = Driver(Spec(o), 200, 50);
        double final = s.D("final_suboptimality");
        output.WriteLine($"actors: {final:E3}, driver: {reference[^1].Suboptimality:E3}; bytes {s.D("bytes_sent")} vs {reference[^1].BytesSent}; spectral gap {s.D("spectral_gap")}");
        Assert.True(final <= 1e-8, $"LEAD should pass 1e-8 within 200 steps, got {final:E2}");
        Assert.Equal(reference[^1].Suboptimality, final);
        Assert.Equal(reference[^1].BytesSent, (long)s.D("bytes_sent"));
        Assert.Equal(reference[^1].MessagesSent, (long)s.D("messages_sent"));
        Assert.Equal(reference[^1].ConsensusDistance, s.D("consensus_distance"));
        Assert.Equal(0.1953, s.D("spectral_gap"), 4);
        Assert.Equal(8 * 200, s.D("updates_applied"));
        Assert.True(File.Exists(Path.Combine(dir, "suboptimality.png")));
        var header = File.ReadLines(Path.Combine(dir, "metrics.csv")).First();
        Assert.EndsWith(",consensus_distance,suboptimality", header, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Same_seed_gives_byte_identical_metrics()
    {
        // Random latency and compute jitter: only the event order of virtual time makes this reproducible.
        string[] o = [.. Choco, "experiment.steps=60", "experiment.eval-every=10", "timing.latency-distribution=lognormal", "timing.latency-spread-ms=2", "timing.compute-jitter=0.5"];
        var a = await Run([.. o, "experiment.seed=5"]);
        var b = await Run([.. o, "experiment.seed=5"]);
        var c = await Run([.. o, "experiment.seed=6"]);
        var ma = File.ReadAllBytes(Path.Combine(a.Dir, "metrics.csv"));
        Assert.Equal(ma, File.ReadAllBytes(Path.Combine(b.Dir, "metrics.csv")));
        Assert.NotEqual(ma, File.ReadAllBytes(Path.Combine(c.Dir, "metrics.csv")));
    }

    [Fact]
    public async Task Asynchronous_pairwise_gossip_is_deterministic_and_learns()
    {
        string[] o = [.. Lead, "gossip.algorithm=dsgd", "compression.type=none", "gossip.gamma=1.0", "timing.mode=async", "experiment.steps=100",
            "experiment.eval-every=20", "timing.compute-jitter=0.5", "timing.stragglers.fraction=0.25", "timing.stragglers.slowdown=4"];
        var a = await Run(o);
        var b = await Run(o);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Dir, "metrics.csv")), File.ReadAllBytes(Path.Combine(b.Dir, "metrics.csv")));
        var rows = File.ReadLines(Path.Combine(a.Dir, "metrics.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        double first = double.Parse(rows[0][^1], System.Globalization.CultureInfo.InvariantCulture);
        output.WriteLine($"async D-SGD: suboptimality {first:E2} at step 20 -> {a.Summary.D("final_suboptimality"):E2}, {a.Summary.D("exchanges")} exchanges");
        Assert.Equal(800, a.Summary.D("updates_applied"));
        Assert.True(a.Summary.D("exchanges") > 300);
        Assert.True(a.Summary.D("final_suboptimality") < first);
    }

    [Fact]
    public async Task Asynchronous_powergossip_runs_through_actors()
    {
        var (_, s) = await Run([.. Lead, "gossip.algorithm=powergossip", "compression.type=none", "compression.rank=1", "gossip.gamma=1.0",
            "timing.mode=async", "experiment.steps=60", "experiment.eval-every=20"]);
        Assert.True(s.D("exchanges") > 100);
        Assert.True(double.IsFinite(s.D("final_suboptimality")));
        Assert.True(s.D("final_suboptimality") < 1e-2);
    }

    [Fact]
    public async Task Churn_neither_crashes_the_run_nor_corrupts_choco_copies()
    {
        // Nodes leave every 15 steps (a quarter of them, for 6 steps); the run must match the synchronous driver, whose
        // ChocoSpec checks every copy after every step, and keep converging.
        string[] o = [.. Choco, "experiment.steps=80", "experiment.eval-every=10", "topology.churn.leave-every=15", "topology.churn.down-for=6", "topology.churn.fraction=0.25"];
        var (dir, s) = await Run(o);
        var reference = Driver(Spec(o), 80, 10);
        var rows = File.ReadLines(Path.Combine(dir, "metrics.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        output.WriteLine($"left {s.D("nodes_left")}, rejoined {s.D("nodes_rejoined")}, resyncs {s.D("resyncs_applied")}, suboptimality {rows[0][^1]} -> {s.D("final_suboptimality"):E2}");
        Assert.True(s.D("nodes_left") >= 8 && s.D("nodes_rejoined") >= 8);
        Assert.True(s.D("resyncs_applied") > 0, "rejoining nodes must resynchronise the copies");
        Assert.Equal(reference[^1].Suboptimality, s.D("final_suboptimality"));
        Assert.Equal(reference[^1].BytesSent, (long)s.D("bytes_sent"));
        Assert.True(s.D("final_suboptimality") < double.Parse(rows[0][^1], System.Globalization.CultureInfo.InvariantCulture), "still converging under churn");
    }

    [Fact]
    public async Task Powergossip_rank_1_sends_over_10x_fewer_bytes_than_dsgd_and_learns_as_well()
    {
        // A small synthetic MLP problem (the Fashion-MNIST figures are in the PR report): same data, steps and step size.
        string[] mlp = ["experiment.kind=gossip", "data.dataset=synthetic", "data.synthetic.train=2000", "data.synthetic.test=500",
            "data.synthetic.features=64", "data.synthetic.separation=0.3", "model.type=mlp", "optimizer.lr=0.1", "experiment.steps=60", "experiment.eval-every=30"];
        var (_, dsgd) = await Run([.. mlp, "gossip.algorithm=dsgd"]);
        var (_, pg) = await Run([.. mlp, "gossip.algorithm=powergossip", "compression.rank=1"]);
        output.WriteLine($"D-SGD {dsgd.D("final_test_accuracy"):P1} with {dsgd.D("bytes_sent")} bytes; PowerGossip {pg.D("final_test_accuracy"):P1} with {pg.D("bytes_sent")} bytes ({dsgd.D("bytes_sent") / pg.D("bytes_sent"):0.0}x fewer)");
        Assert.True(pg.D("bytes_sent") * 10 <= dsgd.D("bytes_sent"));
        Assert.True(dsgd.D("final_test_accuracy") > 0.5, "the baseline must learn for the comparison to mean something");
        Assert.InRange(pg.D("final_test_accuracy"), dsgd.D("final_test_accuracy") - 0.05, 1);
        Assert.False(pg.ContainsKey("final_suboptimality"), "no optimum is known for an MLP");
    }

    [Theory]
    [InlineData("topology.type=hypercube", "topology.type")]
    [InlineData("gossip.algorithm=admm", "gossip.algorithm")]
    [InlineData("gossip.speed=3", "unknown key 'gossip.speed'")]
    [InlineData("topology.churn.fraction=1.5", "topology.churn.fraction")]
    [InlineData("timing.mode=deadline", "timing.mode")]
    [InlineData("timing.mode=async", "timing.mode = async")]
    [InlineData("model.l2=0", "model.l2")]
    [InlineData("topology.nodes=1", "topology.nodes")]
    [InlineData("gossip.gamma=-1", "gossip.gamma")]
    public void Bad_keys_and_values_are_rejected_with_the_key_named(string setting, string expected)
    {
        var e = Assert.Throws<ExperimentConfigException>(() => Spec([.. Lead, setting]));
        output.WriteLine(e.Message);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dsgd_with_a_compressor_is_rejected()
    {
        var e = Assert.Throws<ExperimentConfigException>(() => Spec([.. Lead, "gossip.algorithm=dsgd"]));
        Assert.Contains("compression.type = 'randk'", e.Message, StringComparison.Ordinal);
    }
}

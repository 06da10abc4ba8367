using Actors.Learning.Aggregation;
using Actors.Learning.Attacks;
using Actors.Learning.Compression;
using Akka.Configuration;

namespace Actors.Runtime.Experiments;

public sealed record DataSpec(string Dataset, string? Path, string Partition, double DirichletAlpha, int BatchSize,
    Learning.Data.SyntheticSpec Synthetic);

public sealed record ModelSpec(Learning.Models.ModelArchitecture Architecture, double L2, string DType)
{
    public string Type => Architecture.Type;
}

public sealed record WorkersSpec(int Honest, int Byzantine)
{
    public int Total => Honest + Byzantine;
}

/// <param name="ServerMomentum">`optimizer.momentum-at = server`: the parameter server applies the momentum to the aggregate
/// (after decompression; the PowerSGD reference code's order) and workers send plain gradients.</param>
/// <param name="AsyncScaling">`optimizer.async-scaling`: how far one update moves the model in async and buffered timing.</param>
public sealed record OptimizerSpec(double Lr, double Momentum, Learning.Optim.MomentumForm MomentumForm, bool ServerMomentum = false,
    AsyncScaling AsyncScaling = AsyncScaling.PerWorker, int LookaheadK = 0, double LookaheadAlpha = 0.5,
    Learning.Optim.LearningRateShape LrSchedule = Learning.Optim.LearningRateShape.Constant)
{
    /// <summary>`optimizer.lookahead { k, alpha }` is on (k &gt; 0).</summary>
    public bool Lookahead => LookaheadK > 0;

    /// <summary>The momentum workers apply before sending (0 with server momentum).</summary>
    public double WorkerMomentum => ServerMomentum ? 0 : Momentum;

    /// <summary>The momentum the parameter server applies to the aggregate (0 with worker momentum).</summary>
    public double ServerMomentumBeta => ServerMomentum ? Momentum : 0;
}

/// <summary>`aggregator.conformal-filter { eps, k }`: drop updates whose conformal p-value is below eps (eps 0 = off).</summary>
public sealed record ConformalFilterSpec(double Eps, int K)
{
    public bool Enabled => Eps > 0;
}

public sealed record StragglerSpec(double Fraction, double Slowdown, bool Redraw);

public sealed record TimingSpec(TimingMode Mode, double DeadlineMs, int Quorum, LateUpdates LateUpdates, int BufferSize, int MaxStaleness,
    bool StalenessWeighting, double ComputeMs, double ComputeJitter, StragglerSpec Stragglers, double LatencyMs,
    LatencyDistribution LatencyDistribution, double LatencySpreadMs, double BandwidthMbps)
{
    /// <summary>
    /// `timing.realtime-links = on`: realtime and cluster runs delay every learning message by the modelled link (latency +
    /// bytes / bandwidth) on the wall clock, so the same spec can be compared with its simulation; off: the links are the machine's.
    /// </summary>
    public bool RealtimeLinks { get; init; }

    /// <summary>`timing.compression-cost` with its fixed figures: what a compressor's encode and decode cost on the virtual clock.</summary>
    public CompressionCostSpec CompressionCost { get; init; } = new();

    /// <summary>Sync and deadline rounds: every update belongs to one model version, and a round sees all of its version.</summary>
    public bool VersionedRounds => Mode is TimingMode.Sync or TimingMode.Deadline;
}

/// <summary>`compute { device, threads }`: where a process's tensors live and how many torch threads it uses.</summary>
public sealed record ComputeSpec(string Device = "cpu", int Threads = 0)
{
    public static readonly string[] Devices = ["cpu", "cuda", "auto"];

    /// <summary>
    /// Sets this process's torch threads and device (process-wide, so a process runs one device at a time). Returns the line
    /// to show (the device when it is not the plain default, or why <c>auto</c> fell back to the CPU), or null. A device that
    /// is not usable here is bad input.
    /// </summary>
    /// <summary>Refuses a device this machine cannot use, changing nothing (a local run checks before its directory exists).</summary>
    public void Check()
    {
        try
        {
            Learning.Util.TorchSetup.Resolve(Device);
        }
        catch (Learning.Util.ComputeDeviceException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
    }

    public string? Apply()
    {
        Learning.Util.TorchSetup.Initialize(Threads);
        try
        {
            var line = Learning.Util.TorchSetup.UseDevice(Device);
            return Device == "cpu" && Threads == 0 ? null : line;
        }
        catch (Learning.Util.ComputeDeviceException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
    }
}

/// <summary>
/// `timing.compression-cost`: <c>measured</c> (each codec's cost per value timed at start-up on this machine), <c>none</c>
/// (free), or <c>fixed</c> (<paramref name="EncodeNs"/> and <paramref name="DecodeNs"/> per value, for reproducible studies).
/// </summary>
public sealed record CompressionCostSpec(string Mode = "none", double EncodeNs = 0, double DecodeNs = 0)
{
    public static readonly string[] Modes = ["measured", "none", "fixed"];
}

/// <summary>`cluster { ... }`: settings that only matter on a cluster.</summary>
/// <param name="CheckpointEvery">Steps between aggregator checkpoints kept by the coordinator (0 = off).</param>
public sealed record ClusterSpec(int CheckpointEvery);

/// <summary>
/// A fully resolved, validated experiment: the sections every kind shares, parsed straight into the learning layer's
/// settings records. A kind's own section (e.g. gossip's topology) is parsed by the kind from <see cref="Config"/>.
/// Build one from user input with <c>ExperimentKinds.Load</c>, which also validates the kind's section.
/// </summary>
public sealed record ExperimentSpec(
    string Name, long Seed, int Steps, int EvalEvery, string Kind, string Mode,
    DataSpec Data, ModelSpec Model, WorkersSpec Workers, OptimizerSpec Optimizer, AggregatorSettings Aggregator, ConformalFilterSpec ConformalFilter,
    AttackSettings Attack, CompressionSettings Compression, TimingSpec Timing, ClusterSpec Cluster, Config Config)
{
    /// <summary>The `compute.*` section.</summary>
    public ComputeSpec Compute { get; init; } = new();

    /// <summary>The `pruning.*` section (parameter-server runs).</summary>
    public Learning.Pruning.PruningSettings Pruning { get; init; } = new();

    public static readonly string[] Modes = ["simulation", "realtime"];
    public static readonly string[] Datasets = ["fashion-mnist", "mnist", "synthetic"];
    public static readonly string[] Partitions = ["iid", "shards", "dirichlet"];
    public static readonly string[] ModelTypes = Learning.Models.ModelFactory.Types;
    public static readonly string[] DTypes = ["float32", "float64"];

    public bool IsSimulation => Mode == "simulation";

    /// <summary>The run's data: the synthetic set of `data.synthetic.*`, or the named dataset (with the one warning when it falls back).</summary>
    public Learning.Data.DataBundle LoadData(Action<string> warn) => Data.Dataset == "synthetic"
        ? Learning.Data.SyntheticData.Generate(Data.Synthetic, Seed)
        : Learning.Data.DatasetLocator.Load(Data.Dataset, Data.Path, Seed, warn);

    /// <summary>The sections every kind shares (the kind's own section is checked by the kind: <c>ExperimentKinds.Parse</c>).</summary>
    public static ExperimentSpec Parse(Config c)
    {
        var p = new ConfigReader(c);
        var honest = p.Int("workers.honest", min: 1);
        var byzantine = p.Int("workers.byzantine", min: 0);
        var spec = new ExperimentSpec(
            Name: p.String("experiment.name"),
            Seed: p.Long("experiment.seed"),
            Steps: p.Int("experiment.steps", min: 1),
            EvalEvery: p.Int("experiment.eval-every", min: 1),
            Kind: p.String("experiment.kind"),
            Mode: p.Choice("experiment.mode", Modes),
            Data: new DataSpec(
                p.Choice("data.dataset", Datasets),
                p.OptionalString("data.path"),
                p.Choice("data.partition", Partitions),
                p.Double("data.dirichlet-alpha", min: 1e-9),
                p.Int("data.batch-size", min: 0),
                new Learning.Data.SyntheticSpec(
                    p.Int("data.synthetic.train", min: 1), p.Int("data.synthetic.test", min: 1), p.Int("data.synthetic.features", min: 1),
                    p.Int("data.synthetic.classes", min: 2), p.Double("data.synthetic.separation", min: 0), p.Double("data.synthetic.noise", min: 0))),
            Model: new ModelSpec(new Learning.Models.ModelArchitecture(p.Choice("model.type", ModelTypes),
                    p.Enum<Learning.Models.AttentionKind>("model.attention"), p.Int("model.key-dim", min: 0), p.Int("model.heads", min: 1),
                    p.Int("model.layers", min: 1), p.Int("model.width", min: 1), p.Int("model.patch", min: 1)),
                p.Double("model.l2", min: 0), p.Choice("model.dtype", DTypes)),
            Workers: new WorkersSpec(honest, byzantine),
            Optimizer: new OptimizerSpec(p.Double("optimizer.lr", min: 0), p.Double("optimizer.momentum", min: 0, max: 0.999999),
                p.Choice("optimizer.momentum-form", ["heavy-ball", "ema"]) == "ema" ? Learning.Optim.MomentumForm.Ema : Learning.Optim.MomentumForm.HeavyBall,
                p.Choice("optimizer.momentum-at", ["worker", "server"]) == "server", p.Enum<AsyncScaling>("optimizer.async-scaling"),
                p.Int("optimizer.lookahead.k", min: 0), p.Double("optimizer.lookahead.alpha", min: 1e-9, max: 1),
                p.Enum<Learning.Optim.LearningRateShape>("optimizer.lr-schedule")),
            Aggregator: new AggregatorSettings(
                Type: p.Choice("aggregator.type", AggregatorFactory.Types),
                Tau: p.Double("aggregator.tau", min: 0),
                Iterations: p.OptionalInt("aggregator.iterations", unset: 0, min: 0),
                Trim: p.OptionalInt("aggregator.trim", unset: -1, min: -1),
                M: p.Int("aggregator.m", min: 1),
                BucketSize: p.Int("aggregator.bucket-size", min: 0),
                Async: p.Bool("aggregator.async"),
                Nu: p.Double("aggregator.nu", min: 0)),
            ConformalFilter: new ConformalFilterSpec(p.Double("aggregator.conformal-filter.eps", min: 0, max: 0.999999), p.Int("aggregator.conformal-filter.k", min: 1)),
            Attack: new AttackSettings(
                Type: p.Choice("attack.type", AttackFactory.Types),
                Eps: p.Double("attack.eps"),
                Z: p.OptionalDouble("attack.z", unset: -1),
                Sigma: p.Double("attack.sigma", min: 0),
                Lag: p.Int("attack.lag", min: 1),
                Rate: p.Int("attack.rate", min: 1),
                Base: p.OptionalString("attack.base"),
                Omniscient: p.Bool("attack.omniscient")),
            Compression: new CompressionSettings(
                Type: p.Choice("compression.type", [.. Compressors.Names]),
                Ratio: p.Double("compression.ratio", min: 1e-9, max: 1),
                Rank: p.Int("compression.rank", min: 1),
                Levels: p.Int("compression.levels", min: 1, max: Qsgd.MaxLevels),
                Scaling: p.Enum<RandKScaling>("compression.scaling"),
                ErrorFeedback: p.Bool("compression.error-feedback"),
                CompressBroadcast: p.Bool("compression.compress-broadcast"),
                Block: p.Enum<RandomBlockSize>("compression.block")),
            Timing: new TimingSpec(
                p.Enum<TimingMode>("timing.mode"), p.Double("timing.deadline-ms", min: 0), p.Int("timing.quorum", min: 0),
                p.Enum<LateUpdates>("timing.late-updates"), p.Int("timing.buffer-size", min: 1), p.Int("timing.max-staleness", min: -1),
                p.Choice("timing.staleness-weighting", ["off", "inverse"]) == "inverse",
                p.Double("timing.compute-ms", min: 0), p.Double("timing.compute-jitter", min: 0),
                new StragglerSpec(p.Double("timing.stragglers.fraction", min: 0, max: 1), p.Double("timing.stragglers.slowdown", min: 1), p.Bool("timing.stragglers.redraw")),
                p.Double("timing.latency-ms", min: 0), p.Enum<LatencyDistribution>("timing.latency-distribution"),
                p.Double("timing.latency-spread-ms", min: 0), p.Double("timing.bandwidth-mbps", min: 0)) {
                RealtimeLinks = p.Bool("timing.realtime-links"),
                CompressionCost = new CompressionCostSpec(p.Choice("timing.compression-cost", CompressionCostSpec.Modes),
                    p.Double("timing.compression-encode-ns", min: 0), p.Double("timing.compression-decode-ns", min: 0)),
            },
            Cluster: new ClusterSpec(p.Int("cluster.checkpoint-every", min: 0)),
            Config: c)
        {
            Compute = new ComputeSpec(p.Choice("compute.device", ComputeSpec.Devices), p.Int("compute.threads", min: 0, max: 1024)),
            Pruning = new Learning.Pruning.PruningSettings(
                p.Enum<Learning.Pruning.PruningType>("pruning.type"),
                p.Double("pruning.sparsity", min: 0, max: 0.9999),
                p.Int("pruning.every", min: 1),
                p.Enum<Learning.Pruning.PruningSchedule>("pruning.schedule"),
                p.Long("pruning.start"),
                p.Double("pruning.end-fraction", min: 1e-9, max: 1),
                p.Enum<Learning.Pruning.PruningScope>("pruning.scope")),
        };
        spec.Validate();
        return spec;
    }

    private void Validate()
    {
        if (Workers.Byzantine > 0 && Attack.Type == "none")
            throw new ExperimentConfigException($"workers.byzantine = {Workers.Byzantine} needs an attack: set attack.type (e.g. bitflip, alie, ipm)");
        if (Workers.Byzantine == 0 && Attack.Type != "none")
            throw new ExperimentConfigException($"attack.type = {Attack.Type} needs Byzantine workers: set workers.byzantine > 0");
        try
        {
            AggregatorFactory.Create(Aggregator, Workers.Total, Workers.Byzantine);
            Model.Architecture.Validate();
            var attack = AttackFactory.Create(Attack, Workers.Total, Workers.Byzantine);
            if (attack is not null && (attack.NeedsHonestVectors || attack.WaitsForHonestRound) && !Attack.Omniscient)
                throw new ExperimentConfigException($"attack.type = {Attack.Type} crafts against the honest updates: it needs attack.omniscient = on");
        }
        catch (ArgumentException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
        if (Workers.Byzantine >= Workers.Total)
            throw new ExperimentConfigException($"workers.byzantine = {Workers.Byzantine} must be smaller than the total number of workers ({Workers.Total})");
        if (Timing.Mode == TimingMode.Deadline && Timing.Quorum > Workers.Total)
            throw new ExperimentConfigException($"timing.quorum = {Timing.Quorum} is more than the {Workers.Total} workers");
        if (Timing.Mode == TimingMode.Buffered && Timing.BufferSize > Workers.Total)
            throw new ExperimentConfigException($"timing.buffer-size = {Timing.BufferSize} is more than the {Workers.Total} workers: a buffer could never fill");
        if (Pruning.Start < 0 || (Pruning.Enabled && Pruning.Start >= Steps))
            throw new ExperimentConfigException($"pruning.start = {Pruning.Start} must be a step in [0, {Steps}) (experiment.steps = {Steps})");
        if (Pruning.Enabled && Compression.CompressBroadcast)
            throw new ExperimentConfigException("pruning.type = " + ConfigEnum.Name(Pruning.Type) + " sends the pruned model sparse (mask + values): set compression.compress-broadcast = off");
        if (Model.Type is "cnn" or "transformer" && Data.Dataset == "synthetic" && Data.Synthetic.Features != 784)
            throw new ExperimentConfigException($"model.type = {Model.Type} needs 28x28 inputs: keep data.synthetic.features = 784");
    }
}

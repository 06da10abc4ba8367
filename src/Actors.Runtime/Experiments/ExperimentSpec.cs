using System.Globalization;
using Akka.Configuration;

namespace Actors.Runtime.Experiments;

public sealed record DataSpec(string Dataset, string? Path, string Partition, double DirichletAlpha, int BatchSize,
    Learning.Data.SyntheticSpec Synthetic);

public sealed record ModelSpec(string Type, double L2, string DType);

public sealed record WorkersSpec(int Honest, int Byzantine)
{
    public int Total => Honest + Byzantine;
}

/// <param name="ServerMomentum">`optimizer.momentum-at = server`: the parameter server applies the momentum to the aggregate
/// (after decompression; the PowerSGD reference code's order) and workers send plain gradients.</param>
/// <param name="AsyncScaling">`optimizer.async-scaling`: how far one update moves the model in async and buffered timing.</param>
public sealed record OptimizerSpec(double Lr, double Momentum, Learning.Optim.MomentumForm MomentumForm, bool ServerMomentum = false,
    AsyncScaling AsyncScaling = AsyncScaling.PerWorker)
{
    /// <summary>The momentum workers apply before sending (0 with server momentum).</summary>
    public double WorkerMomentum => ServerMomentum ? 0 : Momentum;

    /// <summary>The momentum the parameter server applies to the aggregate (0 with worker momentum).</summary>
    public double ServerMomentumBeta => ServerMomentum ? Momentum : 0;
}

public sealed record AggregatorSpec(string Type, int BucketSize, double Tau, int Iterations, int Trim, int M, double Nu, bool Async, double FilterEps, int FilterK)
{
    public Learning.Aggregation.AggregatorSettings Settings => new(Type, Tau, Iterations == 0 ? null : Iterations, Trim < 0 ? null : Trim, M, BucketSize, Async, Nu);
}

public sealed record AttackSpec(string Type, bool Omniscient, double Eps, double Z, double Sigma, int Lag, int Rate, string Base)
{
    public Learning.Attacks.AttackSettings Settings => new(Type, Eps, Z < 0 ? null : Z, Sigma, Lag, Rate, Base.Length == 0 ? null : Base);
}

public sealed record CompressionSpec(string Type, double Ratio, int Rank, int Levels, string Scaling, bool ErrorFeedback, bool CompressBroadcast, Config Raw,
    string Block = "ratio")
{
    public Learning.Compression.CompressionSettings Settings => new(Type, Ratio, Rank, Levels,
        Learning.Compression.CompressionSettings.ParseScaling(Scaling), ErrorFeedback, CompressBroadcast, Learning.Compression.CompressionSettings.ParseBlock(Block));
}

public sealed record StragglerSpec(double Fraction, double Slowdown, bool Redraw);

public sealed record TimingSpec(TimingMode Mode, double DeadlineMs, int Quorum, LateUpdates LateUpdates, int BufferSize, int MaxStaleness,
    bool StalenessWeighting, double ComputeMs, double ComputeJitter, StragglerSpec Stragglers, double LatencyMs,
    LatencyDistribution LatencyDistribution, double LatencySpreadMs, double BandwidthMbps)
{
    /// <summary>Sync and deadline rounds: every update belongs to one model version, and a round sees all of its version.</summary>
    public bool VersionedRounds => Mode is TimingMode.Sync or TimingMode.Deadline;
}

/// <summary>A fully resolved, validated experiment. Parsing from HOCON is the only way to build one from user input.</summary>
public sealed partial record ExperimentSpec(
    string Name, long Seed, int Steps, int EvalEvery, string Kind, string Mode,
    DataSpec Data, ModelSpec Model, WorkersSpec Workers, OptimizerSpec Optimizer, AggregatorSpec Aggregator,
    AttackSpec Attack, CompressionSpec Compression, TimingSpec Timing, Config Config)
{
    public static readonly string[] Kinds = ["parameter-server", "gossip"];
    public static readonly string[] Modes = ["simulation", "realtime"];
    public static readonly string[] Datasets = ["fashion-mnist", "mnist", "synthetic"];
    public static readonly string[] Partitions = ["iid", "shards", "dirichlet"];
    public static readonly string[] ModelTypes = ["logreg", "mlp", "cnn"];
    public static readonly string[] DTypes = ["float32", "float64"];

    public bool IsSimulation => Mode == "simulation";

    public static ExperimentSpec Parse(Config c)
    {
        var p = new Reader(c);
        var honest = p.Int("workers.honest", min: 1);
        var byzantine = p.Int("workers.byzantine", min: 0);
        var spec = new ExperimentSpec(
            Name: p.String("experiment.name"),
            Seed: p.Long("experiment.seed"),
            Steps: p.Int("experiment.steps", min: 1),
            EvalEvery: p.Int("experiment.eval-every", min: 1),
            Kind: p.Choice("experiment.kind", Kinds),
            Mode: p.Choice("experiment.mode", Modes),
            Data: new DataSpec(
                p.Choice("data.dataset", Datasets),
                p.String("data.path") is { Length: > 0 } path ? path : null,
                p.Choice("data.partition", Partitions),
                p.Double("data.dirichlet-alpha", min: 1e-9),
                p.Int("data.batch-size", min: 0),
                new Learning.Data.SyntheticSpec(
                    p.Int("data.synthetic.train", min: 1), p.Int("data.synthetic.test", min: 1), p.Int("data.synthetic.features", min: 1),
                    p.Int("data.synthetic.classes", min: 2), p.Double("data.synthetic.separation", min: 0), p.Double("data.synthetic.noise", min: 0))),
            Model: new ModelSpec(p.Choice("model.type", ModelTypes), p.Double("model.l2", min: 0), p.Choice("model.dtype", DTypes)),
            Workers: new WorkersSpec(honest, byzantine),
            Optimizer: new OptimizerSpec(p.Double("optimizer.lr", min: 0), p.Double("optimizer.momentum", min: 0, max: 0.999999),
                p.Choice("optimizer.momentum-form", ["heavy-ball", "ema"]) == "ema" ? Learning.Optim.MomentumForm.Ema : Learning.Optim.MomentumForm.HeavyBall,
                p.Choice("optimizer.momentum-at", ["worker", "server"]) == "server", p.Enum<AsyncScaling>("optimizer.async-scaling")),
            Aggregator: new AggregatorSpec(p.Choice("aggregator.type", Learning.Aggregation.AggregatorFactory.Types), p.Int("aggregator.bucket-size", min: 0),
                p.Double("aggregator.tau", min: 0), p.Int("aggregator.iterations", min: 0), p.Int("aggregator.trim", min: -1), p.Int("aggregator.m", min: 1),
                p.Double("aggregator.nu", min: 0), p.Bool("aggregator.async"),
                p.Double("aggregator.conformal-filter.eps", min: 0, max: 0.999999), p.Int("aggregator.conformal-filter.k", min: 1)),
            Attack: new AttackSpec(p.Choice("attack.type", Learning.Attacks.AttackFactory.Types), p.Bool("attack.omniscient"), p.Double("attack.eps"), p.Double("attack.z"),
                p.Double("attack.sigma", min: 0), p.Int("attack.lag", min: 1), p.Int("attack.rate", min: 1), p.String("attack.base")),
            Compression: new CompressionSpec(p.String("compression.type"), p.Double("compression.ratio", min: 1e-9, max: 1), p.Int("compression.rank", min: 1),
                p.Int("compression.levels", min: 1), p.Choice("compression.scaling", ["unbiased", "contractive"]), p.Bool("compression.error-feedback"),
                p.Bool("compression.compress-broadcast"), c.GetConfig("compression"), p.Choice("compression.block", ["ratio", "rank"])),
            Timing: new TimingSpec(
                p.Enum<TimingMode>("timing.mode"), p.Double("timing.deadline-ms", min: 0), p.Int("timing.quorum", min: 0),
                p.Enum<LateUpdates>("timing.late-updates"), p.Int("timing.buffer-size", min: 1), p.Int("timing.max-staleness", min: -1),
                p.Choice("timing.staleness-weighting", ["off", "inverse"]) == "inverse",
                p.Double("timing.compute-ms", min: 0), p.Double("timing.compute-jitter", min: 0),
                new StragglerSpec(p.Double("timing.stragglers.fraction", min: 0, max: 1), p.Double("timing.stragglers.slowdown", min: 1), p.Bool("timing.stragglers.redraw")),
                p.Double("timing.latency-ms", min: 0), p.Enum<LatencyDistribution>("timing.latency-distribution"),
                p.Double("timing.latency-spread-ms", min: 0), p.Double("timing.bandwidth-mbps", min: 0)),
            Config: c);
        spec = spec.WithDecentralized(p);
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
            Learning.Aggregation.AggregatorFactory.Create(Aggregator.Settings, Workers.Total, Workers.Byzantine);
            var attack = Learning.Attacks.AttackFactory.Create(Attack.Settings, Workers.Total, Workers.Byzantine);
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
        if (Model.Type == "cnn" && Data.Dataset == "synthetic" && Data.Synthetic.Features != 784)
            throw new ExperimentConfigException("model.type = cnn needs 28x28 inputs: keep data.synthetic.features = 784");
    }

    /// <summary>Typed reads with messages that name the key, the bad value and what is valid.</summary>
    private sealed class Reader(Config c)
    {
        private string Raw(string key) => c.GetString(key) ?? throw new ExperimentConfigException($"missing key '{key}'");

        public string String(string key) => Raw(key);

        public string Choice(string key, string[] valid)
        {
            var v = Raw(key);
            if (!valid.Contains(v)) throw new ExperimentConfigException($"{key} = '{v}' is not valid (valid: {string.Join(", ", valid)})");
            return v;
        }

        public T Enum<T>(string key) where T : struct, System.Enum
        {
            var v = Raw(key);
            return ConfigEnum.TryParse<T>(v, out var value)
                ? value
                : throw new ExperimentConfigException($"{key} = '{v}' is not valid (valid: {string.Join(", ", ConfigEnum.Names<T>())})");
        }

        public bool Bool(string key)
        {
            var v = Raw(key).ToLowerInvariant();
            return v switch
            {
                "on" or "true" or "yes" => true,
                "off" or "false" or "no" => false,
                _ => throw new ExperimentConfigException($"{key} = '{v}' is not valid (valid: on, off)"),
            };
        }

        public long Long(string key)
        {
            var v = Raw(key);
            if (!long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x))
                throw new ExperimentConfigException(System.Numerics.BigInteger.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                    ? $"{key} = {v} is out of range (a 64-bit integer: {long.MinValue} to {long.MaxValue})"
                    : $"{key} = '{v}' is not an integer");
            return x;
        }

        public int Int(string key, int min = int.MinValue, int max = int.MaxValue)
        {
            var v = Raw(key);
            if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x))
            {
                if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var big) || System.Numerics.BigInteger.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                    throw new ExperimentConfigException(big < 0 || v.TrimStart().StartsWith('-')
                        ? $"{key} = {v} is too small (minimum {Math.Max(min, int.MinValue).ToString(CultureInfo.InvariantCulture)})"
                        : $"{key} = {v} is too large (maximum {max.ToString(CultureInfo.InvariantCulture)})");
                throw new ExperimentConfigException($"{key} = '{v}' is not an integer");
            }
            if (x < min || x > max) throw new ExperimentConfigException($"{key} = {x} is out of range ({Range(min, max)})");
            return x;
        }

        public double Double(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
        {
            var v = Raw(key);
            if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
                throw new ExperimentConfigException($"{key} = '{v}' is not a finite number");
            if (x < min || x > max) throw new ExperimentConfigException($"{key} = {v} is out of range ({Range(min, max)})");
            return x;
        }

        private static string Range(double min, double max) =>
            (double.IsNegativeInfinity(min) || min == int.MinValue, double.IsPositiveInfinity(max) || max == int.MaxValue) switch
            {
                (true, true) => "any",
                (false, true) => $">= {min.ToString(CultureInfo.InvariantCulture)}",
                (true, false) => $"<= {max.ToString(CultureInfo.InvariantCulture)}",
                _ => $"{min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}",
            };
    }
}

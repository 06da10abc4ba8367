using Actors.Learning.Federated;
using Actors.Runtime.Experiments;

namespace Actors.Runtime.Federated;

/// <summary>Reads and checks the `federated.*` section against the rest of the spec.</summary>
public static class FederatedSection
{
    public static FederatedSettings Of(ExperimentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = new ConfigReader(spec.Config);
        return new FederatedSettings(
            p.Enum<FederatedAlgorithm>("federated.algorithm"),
            p.Int("federated.clients", min: 1),
            p.Int("federated.clients-per-round", min: 1),
            p.Int("federated.local-steps", min: 1),
            p.Double("federated.server-lr", min: 0),
            p.Double("federated.server-momentum", min: 0, max: 0.999999),
            p.Enum<BaseOptimizer>("federated.base-optimizer"),
            p.Double("federated.prox-mu", min: 0),
            p.Double("federated.dropout", min: 0, max: 0.999999));
    }

    public static void Validate(ExperimentSpec spec, FederatedSettings s)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(s);
        if (s.ClientsPerRound > s.Clients)
            throw new ExperimentConfigException($"federated.clients-per-round = {s.ClientsPerRound} is more than federated.clients = {s.Clients}");
        if (spec.Workers.Total != s.ClientsPerRound)
            throw new ExperimentConfigException($"the worker actors are the cohort's slots: workers.honest + workers.byzantine = {spec.Workers.Total} must equal " +
                                                $"federated.clients-per-round = {s.ClientsPerRound} (set workers.honest = {Math.Max(0, s.ClientsPerRound - spec.Workers.Byzantine)})");
        if (s.Dropout > 0 && !spec.Timing.VersionedRounds)
            throw new ExperimentConfigException($"federated.dropout = {s.Dropout.ToString(System.Globalization.CultureInfo.InvariantCulture)} needs timing.mode = sync or deadline (a round closes without its vanished clients), not '{ConfigEnum.Name(spec.Timing.Mode)}'");
        if (s.Dropout > 0 && spec.Workers.Byzantine > 0 && spec.Attack.Omniscient)
            throw new ExperimentConfigException("federated.dropout > 0 with omniscient attackers is not supported: they wait for every honest client's message of the round, " +
                                                "and a vanished client sends none (set federated.dropout = 0 or attack.omniscient = off)");
        if (spec.Optimizer.WorkerMomentum > 0)
            throw new ExperimentConfigException($"optimizer.momentum = {spec.Optimizer.WorkerMomentum} does not apply to federated clients (plain local SGD): set it to 0 " +
                                                "and use federated.algorithm = fedavgm or mime/mimelite for momentum");
        if (spec.Optimizer.ServerMomentum || spec.Optimizer.Lookahead || spec.Optimizer.LrSchedule != Learning.Optim.LearningRateShape.Constant)
            throw new ExperimentConfigException("optimizer.momentum-at = server, optimizer.lookahead and optimizer.lr-schedule do not apply to federated runs: the server's step is federated.algorithm's");
        if (spec.Pruning.Enabled)
            throw new ExperimentConfigException("pruning.type must be none in a federated run");
        if (spec.Compression.CompressBroadcast)
            throw new ExperimentConfigException("compression.compress-broadcast = on is not valid in a federated run (the broadcast carries the server state)");
        if (spec.Attack.Type == "labelflip")
            throw new ExperimentConfigException("attack.type = labelflip is not available for federated clients (valid: the attacks on updates, applied to client deltas)");
        if (s.Algorithm == FederatedAlgorithm.Mime && !spec.Timing.VersionedRounds)
            throw new ExperimentConfigException($"federated.algorithm = mime needs timing.mode = sync or deadline (its two phases must see one model each), not '{ConfigEnum.Name(spec.Timing.Mode)}'");
        if (s.Algorithm is FederatedAlgorithm.Scaffold or FederatedAlgorithm.Mimelite && !spec.Timing.VersionedRounds)
            throw new ExperimentConfigException($"federated.algorithm = {ConfigEnum.Name(s.Algorithm)} needs timing.mode = sync or deadline, not '{ConfigEnum.Name(spec.Timing.Mode)}' (async FL here is fedavg, fedavgm or fedprox)");
    }
}

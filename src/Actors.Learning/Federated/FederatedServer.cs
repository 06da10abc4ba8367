using Actors.Learning.Optim;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Federated;

/// <summary>
/// The server's side of a federated round, as the parameter server's optimizer: it receives the aggregate of the cohort's
/// messages and moves the broadcast state z = [x | server state]. Fedavg/Fedprox: x -= server-lr * mean delta;
/// Fedavgm: v = beta v + mean delta, x -= server-lr v; SCAFFOLD: also c += (|S|/N) mean control change; Mimelite: also
/// the base state advances with the mean full-batch gradient; Mime: the first phase stores that mean as the correction c
/// (not a whole step), the second moves x and advances the base state with c only.
/// </summary>
public sealed class FederatedServer(FederatedSettings settings, long modelSize) : IServerOptimizer
{
    private readonly FederatedSettings _s = settings ?? throw new ArgumentNullException(nameof(settings));
    private torch.Tensor? _velocity;
    private long _calls;

    public bool Step(torch.Tensor x, torch.Tensor direction, double lr, double weight)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(direction);
        using var scope = torch.NewDisposeScope();
        long d = modelSize;
        var model = x.narrow(0, 0, d);
        var state = Enumerable.Range(0, _s.StateBlocks.Count).Select(k => x.narrow(0, d * (k + 1), d)).ToList();
        var delta = direction.narrow(0, 0, d);
        bool correctionPhase = _s.Algorithm == FederatedAlgorithm.Mime && _calls++ % 2 == 0;
        if (correctionPhase)
        {
            state[^1].copy_(delta); // c = mean_i grad f_i(x): the clients' correction for this round's local steps
            return false;
        }
        switch (_s.Algorithm)
        {
            case FederatedAlgorithm.Fedavgm:
                _velocity ??= torch.zeros_like(delta).DetachFromDisposeScope();
                _velocity.MulBy_(_s.ServerMomentum).AddScaled_(delta, weight);
                model.AddScaled_(_velocity, -_s.ServerLr);
                break;
            case FederatedAlgorithm.Scaffold:
                model.AddScaled_(delta, -_s.ServerLr * weight);
                state[0].AddScaled_(direction.narrow(0, d, d), weight * _s.ClientsPerRound / _s.Clients);
                break;
            case FederatedAlgorithm.Mimelite:
                model.AddScaled_(delta, -_s.ServerLr * weight);
                BaseOptimizerRule.Advance(state, direction.narrow(0, d, d), _s.BaseOptimizer, _s.ServerMomentum);
                break;
            case FederatedAlgorithm.Mime:
                model.AddScaled_(delta, -_s.ServerLr * weight);
                BaseOptimizerRule.Advance(state.Take(_s.BaseStateVectors).ToList(), state[^1], _s.BaseOptimizer, _s.ServerMomentum);
                break;
            default:
                model.AddScaled_(delta, -_s.ServerLr * weight);
                break;
        }
        return true;
    }

    public void Dispose() => _velocity?.Dispose();
}

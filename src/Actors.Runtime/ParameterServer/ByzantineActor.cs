using Actors.Learning.Attacks;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Learning.Wire;
using Actors.Runtime.Engine;
using Actors.Runtime.Simulation;
using Akka.Actor;
using TorchSharp;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.Runtime.ParameterServer;

/// <summary>
/// A Byzantine worker. Computes its own honest-looking vector (raw gradient for bit/label flip, momentum otherwise),
/// sees the honest updates through an explicit tap when its attack is omniscient, and chooses *when* to send:
/// after its modelled compute time, and, for attacks that need the honest round (last-mover, ALIE, IPM, mimic...),
/// only once every live honest worker's update for that model version has been seen (in async modes: the latest one
/// of each). Flood sends several messages per round; the aggregator accepts at most one.
/// </summary>
public sealed class ByzantineActor : SimulatedActor
{
    private readonly int _id;
    private readonly int _honestCount;
    private readonly IAttack _attack;
    private readonly ILocalTrainer _trainer;
    private readonly UpdateCodec _codec;
    private readonly INetwork _network;
    private readonly IClock _clock;
    private readonly NetworkModel _timing;
    private readonly bool _simulated;
    private readonly bool _versionedRounds;
    private readonly long _seed;
    private readonly int _n, _f;
    private readonly CollusionBoard? _board;
    private readonly Dictionary<int, (long Version, TensorPayload Update)> _taps = [];
    private IActorRef _aggregator = ActorRefs.Nobody;
    private torch.Tensor? _own;
    private long _version = -1;
    private bool _computeDone, _sent;
    private long _steps;

    public ByzantineActor(int id, int honestCount, int n, int f, IAttack attack, ILocalTrainer trainer, UpdateCodec codec, INetwork network, IClock clock,
        NetworkModel timing, bool simulated, bool versionedRounds, long seed, CollusionBoard? board = null)
    {
        (_id, _honestCount, _n, _f, _attack, _trainer, _codec, _network, _clock, _timing, _simulated, _versionedRounds, _seed) =
            (id, honestCount, n, f, attack, trainer, codec, network, clock, timing, simulated, versionedRounds, seed);
        // Shared crafting is exact only when every colluder sees the same honest vectors: versioned rounds.
        _board = versionedRounds && attack.SameForAllColluders ? board : null;
        Receive<Wire>(w => _aggregator = w.Aggregator);
        Receive<ModelBroadcast>(OnModel);
        Receive<ComputeDone>(d =>
        {
            if (d.Version != _version) return;
            _computeDone = true;
            TrySend();
        });
        Receive<HonestTap>(t =>
        {
            if (!_taps.TryGetValue(t.WorkerId, out var old) || t.Version >= old.Version)
            {
                _taps[t.WorkerId] = (t.Version, t.Update);
                old.Update?.Release();
            }
            else
            {
                t.Update.Release();
            }
            TrySend();
        });
    }

    public static Props Props(int id, int honestCount, int n, int f, IAttack attack, ILocalTrainer trainer, UpdateCodec codec, INetwork network, IClock clock,
        NetworkModel timing, bool simulated, bool versionedRounds, long seed, CollusionBoard? board = null) =>
        Akka.Actor.Props.Create(() => new ByzantineActor(id, honestCount, n, f, attack, trainer, codec, network, clock, timing, simulated, versionedRounds, seed, board));

    private void OnModel(ModelBroadcast m)
    {
        if (m.Version <= _version) return; // one update per model version: only a newer model starts a new round
        if (m.IsDelta) throw new InvalidOperationException("Byzantine workers do not support compress-broadcast");
        using var parameters = m.Model.ToTensor();
        _own?.Dispose();
        _own = (_attack.SendsRawGradient ? _trainer.Gradient(parameters).Gradient : _trainer.ComputeUpdate(parameters)).DetachFromDisposeScope();
        _version = m.Version;
        _computeDone = false;
        _sent = false;
        var delay = _simulated ? _timing.Compute(_id, _steps) : TimeSpan.Zero;
        _steps++;
        _clock.After(delay, Self, new ComputeDone(m.Version), Self);
    }

    private void TrySend()
    {
        if (_sent || !_computeDone || _own is null) return;
        var honest = HonestOfRound();
        if ((_attack.NeedsHonestVectors || _attack.WaitsForHonestRound) && honest is null) return;
        _sent = true;
        using var scope = torch.NewDisposeScope();
        if (_board is null)
            SendAll(Craft(honest));
        else
            _board.Use(_version, () => Craft(honest), SendAll);
    }

    private IReadOnlyList<torch.Tensor> Craft(List<TensorPayload>? honest)
    {
        // Attacks only read the honest vectors: in-process ones are borrowed (the taps keep them alive), not copied.
        var vectors = (honest ?? []).Select(p => p.TryBorrowDense(out var dense) ? dense : p.ToTensor()).ToList();
        // One rng per round shared by all Byzantine workers: colluding attackers send the same vector.
        var context = new AttackContext(_own!, vectors, _n, _f, _version, Seeds.Random(_seed, "attack-round", _version));
        return _attack.CraftMessages(context);
    }

    private void SendAll(IReadOnlyList<torch.Tensor> messages)
    {
        foreach (var message in messages)
        {
            var payload = _codec.Encode(message, _version);
            _network.Send(_id, -1, _aggregator, new WorkerUpdate(_id, _version, payload, _codec.UncompressedBytes), Self,
                payload.SizeBytes, _codec.UncompressedBytes, LinkKind.Uplink, _codec.Cost.Decode(_codec.Values));
        }
    }

    /// <summary>The honest updates this attacker may craft against, in worker order; null while incomplete.</summary>
    private List<TensorPayload>? HonestOfRound()
    {
        var list = new List<TensorPayload>(_honestCount);
        for (int w = 0; w < _honestCount; w++)
        {
            if (!_taps.TryGetValue(w, out var t)) return null;
            if (_versionedRounds && t.Version != _version) return null;
            list.Add(t.Update);
        }
        return list;
    }

    protected override void PostStop()
    {
        _own?.Dispose();
        foreach (var (_, update) in _taps.Values) update.Release();
        _taps.Clear();
    }
}

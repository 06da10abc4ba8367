using Actors.Learning.Data;
using Actors.Learning.Training;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Federated;

/// <summary>
/// One slot of the cohort: each time the server broadcasts, it hosts the client the round samples for it, runs that
/// client's local work from the broadcast state z = [x | server state] and returns the client's message
/// (<see cref="FederatedSettings.MessageBlocks"/>). In round t slot j hosts <c>Cohort(t)[j]</c>; a client's minibatches
/// come from (seed, client, round), so a run is a function of its seed whatever slot hosts whom.
/// </summary>
public sealed class ClientTrainer : ILocalTrainer, IStatefulTrainer
{
    private (int Client, float[]? Value)? _prefetched; // the next call's client state, fetched from the population's store
    private Task _writes = Task.CompletedTask;
    private readonly ClientPopulation _population;
    private readonly FederatedSettings _s;
    private readonly int _slot, _batchSize;
    private readonly double _lr;
    private readonly long _seed, _d;
    private long _calls;

    public ClientTrainer(ClientPopulation population, int slot, int batchSize, double lr, long seed)
    {
        ArgumentNullException.ThrowIfNull(population);
        _population = population;
        _s = population.Settings;
        _slot = slot;
        _batchSize = batchSize;
        _lr = lr;
        _seed = seed;
        _d = population.Model.ParameterCount;
        ParameterCount = _d * _s.MessageBlocks.Count;
    }

    public long ParameterCount { get; }

    /// <summary>The client of this slot in the last round it worked (tests, diagnostics).</summary>
    public int LastClient { get; private set; } = -1;

    /// <summary>
    /// The last call's client vanished mid-round (federated.dropout): its work is lost, the slot reports no update and its
    /// state (SCAFFOLD's c_i) is not updated. Decided by (seed, round): each slot draws u ~ U(0, 1) and vanishes when
    /// u &lt; dropout; when every slot would vanish, the one with the largest u stays, so no round is empty.
    /// </summary>
    public bool Withheld { get; private set; }

    /// <summary>Federated clients have no raw gradient of their own: attacks start from the message, as from a worker's update.</summary>
    public (torch.Tensor Gradient, double Loss) Gradient(torch.Tensor parameters) => (ComputeUpdate(parameters), double.NaN);

    public torch.Tensor ComputeUpdate(torch.Tensor parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        long call = _calls++;
        long round = call / _s.PhasesPerRound;
        bool correctionPhase = _s.Algorithm == FederatedAlgorithm.Mime && call % 2 == 0;
        int client = _population.Cohort(round)[_slot];
        LastClient = client;
        Withheld = !correctionPhase && Vanishes(round);
        if (Withheld) return torch.zeros(ParameterCount);
        using var scope = torch.NewDisposeScope();
        var x = parameters.narrow(0, 0, _d);
        var data = _population.Data(client);
        if (correctionPhase) return FullGradient(x, data).MoveToOuterDisposeScope(); // Mime, phase 1: grad f_i(x) for c
        var state = Blocks(parameters);
        var rng = Seeds.Random(_seed, "client-batches", client * 1_000_003L + round);
        var y = x.clone();
        torch.Tensor? control = null;
        if (_s.Algorithm == FederatedAlgorithm.Scaffold) control = StoredControl(client);
        var baseState = _s.IsMime ? state.Take(_s.BaseStateVectors).ToList() : [];
        foreach (var batch in Batches(data.Count, rng))
        {
            using var step = torch.NewDisposeScope();
            using var idx = torch.tensor(batch, torch.int64);
            var (bx, by) = data.Rows(idx);
            long randomSeed = GradientModel.RandomSeed(batch, round);
            var (g, _) = _population.Model.Gradient(y, bx, by, randomSeed);
            torch.Tensor next;
            switch (_s.Algorithm)
            {
                case FederatedAlgorithm.Fedprox:
                    next = y.AddScaled(g.AddScaled(y.sub(x), _s.ProxMu), -_lr);
                    break;
                case FederatedAlgorithm.Scaffold: // g - c_i + c
                    next = y.AddScaled(g.sub(control!).Plus(state[0]), -_lr);
                    break;
                case FederatedAlgorithm.Mime: // g(y; b) - g(x; b) + c with the frozen base state
                    var (gx, _) = _population.Model.Gradient(x, bx, by, randomSeed);
                    next = BaseOptimizerRule.Step(y, g.sub(gx).Plus(state[^1]), baseState, _s.BaseOptimizer, _s.ServerMomentum, _lr);
                    break;
                case FederatedAlgorithm.Mimelite:
                    next = BaseOptimizerRule.Step(y, g, baseState, _s.BaseOptimizer, _s.ServerMomentum, _lr);
                    break;
                default:
                    next = y.AddScaled(g, -_lr);
                    break;
            }
            y.copy_(next);
        }
        var delta = x.sub(y);
        switch (_s.Algorithm)
        {
            case FederatedAlgorithm.Scaffold:
            {
                // Option II: c_i+ = c_i - c + (x - y) / (K lr); the server gets the change and the client keeps c_i+.
                var updated = control!.sub(state[0]).AddScaled(delta, 1.0 / (_s.LocalSteps * _lr));
                var change = updated.sub(control!);
                if (_population.Store is { } store)
                    _writes = store.SetAsync(client, updated.ToHostArray<float>()); // awaited by the worker before it sends (TakeWrites)
                else
                    _population.SetControl(client, updated);
                return torch.cat([delta, change], 0).MoveToOuterDisposeScope();
            }
            case FederatedAlgorithm.Mimelite:
                return torch.cat([delta, FullGradient(x, data)], 0).MoveToOuterDisposeScope();
            default:
                return delta.MoveToOuterDisposeScope();
        }
    }

    /// <summary>SCAFFOLD with a store: fetches the next call's client's c_i (the call that <see cref="ComputeUpdate"/> makes next).</summary>
    public async Task Prepare()
    {
        if (_s.Algorithm != FederatedAlgorithm.Scaffold || _population.Store is not { } store) return;
        long round = _calls / _s.PhasesPerRound;
        int client = _population.Cohort(round)[_slot];
        var value = await store.GetAsync(client).ConfigureAwait(false);
        if (value is not null && value.Length != _d)
            throw new InvalidOperationException($"client {client}'s stored control variate has {value.Length} values, not {_d}");
        _prefetched = (client, value);
    }

    public Task TakeWrites()
    {
        var writes = _writes;
        _writes = Task.CompletedTask;
        return writes;
    }

    /// <summary>c_i from this process's memory, or the value <see cref="Prepare"/> fetched from the store (zero when the client never reported).</summary>
    private torch.Tensor StoredControl(int client)
    {
        if (_population.Store is null) return _population.Control(client, _d);
        if (_prefetched is not { } p || p.Client != client)
            throw new InvalidOperationException($"client {client}'s control variate was not fetched before its round (IStatefulTrainer.Prepare)");
        _prefetched = null;
        return p.Value is null ? torch.zeros(_d) : torch.tensor(p.Value);
    }

    private bool Vanishes(long round)
    {
        if (_s.Dropout <= 0) return false;
        var rng = Seeds.Random(_seed, "dropout", round);
        var u = Enumerable.Range(0, _s.ClientsPerRound).Select(_ => rng.NextDouble()).ToArray();
        if (u.All(v => v < _s.Dropout)) return _slot != Array.IndexOf(u, u.Max());
        return u[_slot] < _s.Dropout;
    }

    /// <summary>The state blocks after x in the broadcast, in <see cref="FederatedSettings.StateBlocks"/> order (views).</summary>
    private List<torch.Tensor> Blocks(torch.Tensor z) =>
        [.. Enumerable.Range(0, _s.StateBlocks.Count).Select(k => z.narrow(0, _d * (k + 1), _d))];

    /// <summary>K minibatches, without replacement within an epoch of the client's shard (batch 0 = the whole shard).</summary>
    private IEnumerable<long[]> Batches(int count, Random rng)
    {
        int size = _batchSize <= 0 ? count : Math.Min(_batchSize, count);
        long[] order = [];
        int cursor = 0;
        for (int k = 0; k < _s.LocalSteps; k++)
        {
            if (order.Length == 0 || cursor + size > order.Length)
            {
                order = Partitioner.Permutation(count, rng);
                cursor = 0;
            }
            yield return order[cursor..(cursor + size)];
            cursor += size;
        }
    }

    /// <summary>grad f_i(x) over the client's whole shard (chunks of 2,000 rows, weighted by their size).</summary>
    private torch.Tensor FullGradient(torch.Tensor x, Dataset data)
    {
        using var scope = torch.NewDisposeScope();
        var sum = torch.zeros(_d);
        const int Chunk = 2000;
        for (int start = 0; start < data.Count; start += Chunk)
        {
            int len = Math.Min(Chunk, data.Count - start);
            using var idx = torch.arange(start, start + len, dtype: torch.int64);
            var (bx, by) = data.Rows(idx);
            var (g, _) = _population.Model.Gradient(x, bx, by);
            sum.AddScaled_(g, (double)len / data.Count);
        }
        return sum.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
    }
}

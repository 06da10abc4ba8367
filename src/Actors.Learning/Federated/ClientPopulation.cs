using Actors.Learning.Data;
using Actors.Learning.Models;
using Actors.Learning.Training;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Federated;

/// <summary>
/// The federated population of a process: every client's data shard, the state that must outlive a round (SCAFFOLD's
/// control variate c_i, created the first time the client is sampled), the cohort of each round and the one gradient
/// module every client computes with. A cohort slot (<see cref="ClientTrainer"/>) hosts whichever client the round
/// samples for it, so 10,000 clients are 10,000 index lists, not 10,000 models.
/// </summary>
public sealed class ClientPopulation : IDisposable
{
    private readonly Dataset _train;
    private readonly long[][] _shards;
    private readonly Dataset?[] _views;
    private readonly Dictionary<int, torch.Tensor> _controls = [];
    private IClientStateStore? _store;
    private readonly long _seed;
    private readonly Lock _gate = new();
    private long _cohortRound = -1;
    private int[] _cohort = [];

    public ClientPopulation(Dataset train, long[][] shards, FederatedSettings settings, ModelArchitecture model, long seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(settings);
        if (shards.Length != settings.Clients) throw new ArgumentException($"{shards.Length} shards for {settings.Clients} clients");
        if (settings.ClientsPerRound > settings.Clients)
            throw new ArgumentException($"federated.clients-per-round = {settings.ClientsPerRound} is more than federated.clients = {settings.Clients}");
        _train = train;
        _shards = shards;
        _views = new Dataset?[shards.Length];
        _seed = seed;
        Settings = settings;
        Model = new GradientModel(model, train.ItemShape, train.Classes);
    }

    public FederatedSettings Settings { get; }

    /// <summary>The gradient module every client of the process computes with (parameters are copied in per gradient).</summary>
    public GradientModel Model { get; }

    public int Clients => _shards.Length;


    /// <summary>The client's data (a view of the training set).</summary>
    public Dataset Data(int client)
    {
        lock (_gate) return _views[client] ??= _train.View(_shards[client], $"client-{client}");
    }

    /// <summary>The clients of a round, uniformly without replacement from the run's seed: slot j hosts element j.</summary>
    public int[] Cohort(long round)
    {
        lock (_gate)
        {
            if (round != _cohortRound)
            {
                var order = Partitioner.Permutation(Clients, Seeds.Random(_seed, "cohort", round));
                _cohort = [.. order.Take(Settings.ClientsPerRound).Select(i => (int)i)];
                _cohortRound = round;
            }
            return _cohort;
        }
    }

    /// <summary>
    /// Keeps the clients' persistent state in <paramref name="store"/> instead of this process's memory: on a cluster, where a
    /// client is hosted by whichever slot samples it, on whichever node that slot lives, one store serves every node.
    /// </summary>
    public void UseStore(IClientStateStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        lock (_gate) _store = store;
    }

    /// <summary>The store the clients' state lives in instead of this process's memory, or null (<see cref="UseStore"/>).</summary>
    public IClientStateStore? Store => Volatile.Read(ref _store);

    /// <summary>SCAFFOLD's c_i (zero until the client first reports): a copy the caller owns. This process's memory only.</summary>
    public torch.Tensor Control(int client, long size)
    {
        lock (_gate) return _controls.TryGetValue(client, out var c) ? c.clone() : torch.zeros(size);
    }

    public void SetControl(int client, torch.Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            if (_controls.Remove(client, out var old)) old.Dispose();
            _controls[client] = value.detach().clone().DetachFromDisposeScope();
        }
    }

    /// <summary>The sum of every client's control variate (clients never sampled count as 0).</summary>
    public torch.Tensor ControlSum(long size)
    {
        lock (_gate)
        {
            var sum = torch.zeros(size);
            foreach (var c in _controls.Values) sum.add_(c);
            return sum;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        foreach (var c in _controls.Values) c.Dispose();
        foreach (var v in _views) v?.Dispose();
    }
}

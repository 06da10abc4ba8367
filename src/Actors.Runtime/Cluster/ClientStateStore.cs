using System.Runtime.InteropServices;
using Actors.Learning.Federated;
using Actors.Runtime.Transport;
using Akka.Actor;
using static Actors.Runtime.Cluster.ClusterProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// The federated clients' persistent state (SCAFFOLD's c_i) of one run on a cluster, on the aggregator's node at
/// <c>aggregator-RUN/clients</c>. A client is hosted by whichever cohort slot samples it, on whichever node that slot lives, so
/// the state a client must keep between its rounds cannot stay in one worker process: a slot fetches its client's vector before
/// its round's work and stores the new one before it reports (<see cref="RemoteClientStateStore"/>). The vectors travel over
/// the bulk side channel (an MLP's c_i is 814 kB), and they are the simulation's bookkeeping of where a client lives, not
/// learning traffic: they are not counted in the run's bytes.
/// </summary>
internal sealed class ClientStateStoreActor : ReceiveActor
{
    public const string Name = "clients";

    private readonly Dictionary<int, byte[]> _state = [];

    public ClientStateStoreActor()
    {
        var bulk = BulkTransport.Get(Context.System);
        Receive<GetClientState>(g =>
        {
            if (!_state.TryGetValue(g.Client, out var bytes))
            {
                Sender.Tell(ClientStateValue.None);
                return;
            }
            bulk.SendAsync(Sender, bytes).PipeTo(Sender, Self, ClientStateValue.Of, e => new Status.Failure(e));
        });
        Receive<PutClientState>(p =>
        {
            var replyTo = Sender;
            bulk.ReceiveAsync(p.Value.Handle()).PipeTo(Self, replyTo, payload =>
            {
                using (payload) return new Arrived(p.Client, payload.ToArray());
            }, e => new Status.Failure(e));
        });
        Receive<Arrived>(a =>
        {
            _state[a.Client] = a.Bytes;
            Sender.Tell(new ClientStateStored(a.Client));
        });
        Receive<Status.Failure>(f => Sender.Tell(f));
    }

    private sealed record Arrived(int Client, byte[] Bytes);
}

/// <summary>
/// <see cref="IClientStateStore"/> over the run's <see cref="ClientStateStoreActor"/>. Asynchronous: the worker actor asks for
/// its client's state before computing and waits for the write before sending, by messages to itself
/// (<see cref="Learning.Training.IStatefulTrainer"/>), so the next round's slot (sampled after the server aggregated that
/// report) reads the new value, as in one process.
/// </summary>
internal sealed class RemoteClientStateStore(ActorSystem system, IActorRef store, TimeSpan timeout) : IClientStateStore
{
    private readonly BulkTransport _bulk = BulkTransport.Get(system);

    public async Task<float[]?> GetAsync(int client)
    {
        var reply = await store.Ask<ClientStateValue>(new GetClientState(client), timeout).ConfigureAwait(false);
        if (reply.Size < 0) return null;
        using var payload = await _bulk.ReceiveAsync(reply.Handle()).ConfigureAwait(false);
        return MemoryMarshal.Cast<byte, float>(payload.Bytes.Span).ToArray();
    }

    public async Task SetAsync(int client, float[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var bytes = MemoryMarshal.AsBytes(value.AsSpan()).ToArray();
        var handle = await _bulk.SendAsync(store, bytes).ConfigureAwait(false);
        await store.Ask<ClientStateStored>(new PutClientState(client, ClientStateValue.Of(handle)), timeout).ConfigureAwait(false);
    }
}

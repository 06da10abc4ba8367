using Actors.Learning.Aggregation;
using Actors.Learning.Compression;
using Actors.Learning.Gossip;
using Actors.Learning.Training;
using Actors.Learning.Wire;
using Actors.Runtime.Simulation;
using Akka.Actor;
using TorchSharp;
using static Actors.Runtime.Gossip.GossipProtocol;
using static Actors.Runtime.Protocol.ParameterServerProtocol;

namespace Actors.LoadTests.Load;

/// <summary>
/// The aggregator's apply path under load: takes a worker's update the way the parameter server does (a learning actor,
/// so an update bigger than the bulk threshold arrives over the side channel and is claimed first), checks its size and
/// finiteness, applies it to the server model with the real <see cref="ServerModel"/> step (mean over the update, lr 0.01)
/// and acknowledges with <c>long[] { worker, version, server version }</c>. It does not broadcast the model back
/// (the measured latency is update-to-applied).
/// </summary>
internal sealed class SaturationAggregator : SimulatedActor
{
    private readonly ServerModel _server;
    private readonly Random _rng = new(7);
    private long _rejected;

    public SaturationAggregator(int dimension)
    {
        using (var initial = torch.zeros(dimension)) _server = new ServerModel(initial, new Mean(), 0.01);
        Receive<WorkerUpdate>(u =>
        {
            torch.Tensor update;
            try
            {
                update = u.Update.TakeTensor();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                _rejected++;
                Sender.Tell(new[] { u.WorkerId, u.Version, -1L });
                return;
            }
            using (update)
            {
                if (update.numel() != _server.UpdateSize || !ServerModel.IsFinite(update))
                {
                    _rejected++;
                    Sender.Tell(new[] { u.WorkerId, u.Version, -1L });
                    return;
                }
                _server.Step([update], new AggregationContext(1, 0, _server.Version, _rng));
            }
            Sender.Tell(new[] { u.WorkerId, u.Version, _server.Version });
        });
    }

    protected override void PostStop() => _server.Dispose();
}

/// <summary>
/// A gossip peer under load: holds a model of <c>dimension</c> values; asked by the driver (<c>string[] { peer path }</c>) it
/// sends the peer its top-k (10%) compressed model as a <see cref="PeerPacket"/> (the cluster's gossip wire format); a peer
/// answers a packet with its own, and each side averages what it got into its model (x = (x + C(x_peer)) / 2, real
/// tensor math). The exchange ends at the answer; the driver gets <c>long[] { bytes of the two packets }</c>.
/// </summary>
internal sealed class GossipLoadPeer : SimulatedActor
{
    private readonly int _id;
    private readonly torch.Tensor _x;
    private readonly TopK _compressor = new(0.1);
    private readonly Dictionary<long, (IActorRef Driver, long Bytes)> _pending = [];
    private readonly Dictionary<string, ActorSelection> _peers = new(StringComparer.Ordinal);
    private long _sequence;

    public GossipLoadPeer(int id, int dimension)
    {
        _id = id;
        using (var g = new torch.Generator((ulong)(id + 1))) _x = torch.randn(dimension, generator: g).DetachFromDisposeScope();
        Receive<string[]>(ask =>
        {
            long seq = ++_sequence;
            var packet = Packet(0, seq);
            _pending[seq] = (Sender, packet.Compressed!.SizeBytes);
            if (!_peers.TryGetValue(ask[0], out var peer)) _peers[ask[0]] = peer = Context.ActorSelection(ask[0]);
            peer.Tell(packet, Self);
        });
        Receive<PeerPacket>(p =>
        {
            Average(p);
            if (p.To == 0) // a request (To carries the direction: 0 asks, 1 answers)
            {
                Sender.Tell(Packet(1, p.Sequence), Self);
            }
            else if (_pending.Remove(p.Sequence, out var waiting))
            {
                waiting.Driver.Tell(new[] { waiting.Bytes + (p.Compressed?.SizeBytes ?? 0) });
            }
        });
    }

    private PeerPacket Packet(int direction, long sequence)
    {
        var compressed = _compressor.Compress(_x, new CompressionContext(sequence, (ulong)_id));
        return new PeerPacket(_id, direction, sequence, GossipMessageKind.Delta, sequence, TensorPayload.FromCompressed(compressed), []);
    }

    private void Average(PeerPacket p)
    {
        if (p.Compressed is null) return;
        using var scope = torch.NewDisposeScope();
        var other = p.Compressed.ToTensor();
        if (other.numel() != _x.numel()) return;
        _x.add_(other).mul_(HalfScalar);
    }

    private static readonly Scalar HalfScalar = 0.5.ToScalar();

    protected override void PostStop() => _x.Dispose();
}

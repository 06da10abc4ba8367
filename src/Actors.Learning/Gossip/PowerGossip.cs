using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Gossip;

/// <summary>
/// PowerGossip (Vogels et al., NeurIPS 2020; ALGORITHMS.md section 5): every edge (i, j) approximates the model difference
/// M_i - M_j of each 2-D parameter by one power-iteration step with a vector pair both ends hold identically (seeded from
/// the edge id, warm-started across steps). Even exchanges: q orthonormalised, each end sends M q, both form
/// p = M_lo q - M_hi q and U = p q^T; odd exchanges: p orthonormalised, each end sends M^T p, q = M_lo^T p - M_hi^T p,
/// U = p q^T. The lower id applies M -= gamma w_ij U, the higher M += gamma w_ij U, so the network average is preserved
/// exactly (up to float rounding). Vectors (biases) are sent whole. Rank r, one power step per exchange.
/// A message whose exchange counter differs from ours means a lost message: both ends skip that exchange and restart the
/// edge from a fresh vector seeded by (edge, max counter + 1), so they agree again.
/// </summary>
public sealed class PowerGossip : GossipNode, IPairwiseGossip
{
    private readonly Entry[] _entries;
    private readonly int _rank;
    private readonly Dictionary<int, Edge> _edges = [];
    private readonly Dictionary<int, torch.Tensor[]> _sent = [];
    private readonly SortedDictionary<long, Dictionary<int, GossipPayload>> _inbox = [];
    private readonly Dictionary<int, (long Counter, torch.Tensor[] Projections)> _pairSent = [];

    public PowerGossip(int id, torch.Tensor initialModel, GossipSettings settings, ParameterLayout? layout = null) : base(id, initialModel, settings)
    {
        if (settings.Rank <= 0) throw new ArgumentException($"powergossip needs compression.rank >= 1, got {settings.Rank}");
        _rank = settings.Rank;
        _entries = Entries(layout, initialModel.numel());
    }

    public override string Algorithm => "powergossip";

    /// <summary>The edge's exchange counter with a neighbour (0 if none yet).</summary>
    public long ExchangesWith(int neighbor) => _edges.TryGetValue(neighbor, out var e) ? e.Counter : 0;

    protected override GossipOutbox Compose(long step, torch.Tensor gradient, MixingRow row)
    {
        RequireUndirected(row);
        SgdStep(gradient);
        foreach (var old in _sent.Values.SelectMany(a => a)) old.Dispose();
        _sent.Clear();
        var outbox = new GossipOutbox();
        foreach (int j in row.OutNeighbors)
        {
            var edge = EdgeWith(j);
            var projections = Project(edge);
            _sent[j] = projections.Select(p => p.clone().DetachFromDisposeScope()).ToArray();
            outbox.Add(new GossipMessage(Id, j, step, GossipMessageKind.Projection, edge.Counter, Dense: projections.Select(p => outbox.Own(p.DetachFromDisposeScope())).ToArray()));
        }
        return outbox;
    }

    protected override void Accept(GossipMessage message)
    {
        if (message.Kind != GossipMessageKind.Projection) throw new ArgumentException($"powergossip node {Id} cannot take a {message.Kind} message here");
        if (message.Step <= MixedStep)
        {
            Counters.Stale++;
            return;
        }
        if (!_inbox.TryGetValue(message.Step, out var byFrom)) _inbox[message.Step] = byFrom = [];
        if (byFrom.ContainsKey(message.From))
        {
            Counters.Duplicates++;
            return;
        }
        byFrom[message.From] = new GossipPayload(message.Sequence, message.Dense!.Select(t => t.to_type(X.dtype).detach().clone().DetachFromDisposeScope()).ToArray());
    }

    protected override void Combine(long step, MixingRow row)
    {
        var delta = torch.zeros_like(X);
        if (_inbox.TryGetValue(step, out var byFrom))
        {
            foreach (var (j, w) in row.InNeighbors)
            {
                if (!byFrom.TryGetValue(j, out var theirs) || !_sent.TryGetValue(j, out var mine)) continue;
                var edge = EdgeWith(j);
                if (theirs.Counter != edge.Counter)
                {
                    edge.Reset(Math.Max(edge.Counter, theirs.Counter) + 1);
                    Counters.EdgeResets++;
                    continue;
                }
                Exchange(edge, mine, theirs.Projections, Settings.Gamma * w, delta);
            }
        }
        X.add_(delta);
        DropThrough(_inbox, step);
    }

    public void LocalStep(torch.Tensor gradient) => SgdStep(gradient);

    public GossipOutbox Initiate(int peer, long step)
    {
        if (_pairSent.ContainsKey(peer)) throw new InvalidOperationException($"node {Id} already has an exchange open with {peer}");
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var edge = EdgeWith(peer);
        var projections = Project(edge);
        _pairSent[peer] = (edge.Counter, projections.Select(p => p.clone().DetachFromDisposeScope()).ToArray());
        var outbox = new GossipOutbox();
        outbox.Add(new GossipMessage(Id, peer, step, GossipMessageKind.PairRequest, edge.Counter, Dense: projections.Select(p => outbox.Own(p.DetachFromDisposeScope())).ToArray()));
        return outbox;
    }

    public GossipOutbox Respond(GossipMessage request)
    {
        if (request.Kind != GossipMessageKind.PairRequest || request.To != Id) throw new ArgumentException($"node {Id}: not a pair request for it");
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var edge = EdgeWith(request.From);
        var outbox = new GossipOutbox();
        long counter = edge.Counter;
        if (request.Sequence != counter)
        {
            edge.Reset(Math.Max(counter, request.Sequence) + 1);
            Counters.EdgeResets++;
            outbox.Add(new GossipMessage(Id, request.From, request.Step, GossipMessageKind.PairReply, counter, Dense: []));
            return outbox;
        }
        var mine = Project(edge);
        var delta = torch.zeros_like(X);
        Exchange(edge, mine, request.Dense!.Select(t => t.to_type(X.dtype)).ToArray(), Settings.Gamma / 2, delta);
        X.add_(delta);
        outbox.Add(new GossipMessage(Id, request.From, request.Step, GossipMessageKind.PairReply, counter, Dense: mine.Select(p => outbox.Own(p.DetachFromDisposeScope())).ToArray()));
        return outbox;
    }

    public void Complete(GossipMessage reply)
    {
        if (reply.Kind != GossipMessageKind.PairReply || !_pairSent.Remove(reply.From, out var sent))
        {
            Counters.Stale++;
            return;
        }
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        try
        {
            var edge = EdgeWith(reply.From);
            if (reply.Sequence != sent.Counter || edge.Counter != sent.Counter)
            {
                edge.Reset(Math.Max(Math.Max(edge.Counter, sent.Counter), reply.Sequence) + 1);
                Counters.EdgeResets++;
                return;
            }
            var delta = torch.zeros_like(X);
            Exchange(edge, sent.Projections, reply.Dense!.Select(t => t.to_type(X.dtype)).ToArray(), Settings.Gamma / 2, delta);
            X.add_(delta);
        }
        finally
        {
            foreach (var p in sent.Projections) p.Dispose();
        }
    }

    /// <summary>What this node sends on an edge: per entry M q (even), M^T p (odd), or the vector's values.</summary>
    private torch.Tensor[] Project(Edge edge)
    {
        var result = new torch.Tensor[_entries.Length];
        for (int e = 0; e < _entries.Length; e++)
        {
            var entry = _entries[e];
            var slice = X.narrow(0, entry.Offset, entry.Count);
            if (!entry.IsMatrix)
            {
                result[e] = slice.clone();
                continue;
            }
            var m = slice.view(entry.Rows, entry.Cols);
            var v = edge.Orthonormal(e, entry, X.dtype);
            result[e] = edge.EvenPhase ? m.matmul(v) : m.t().matmul(v);
        }
        return result;
    }

    /// <summary>
    /// Both ends form the same difference a_lo - a_hi and the same U; the lower id accumulates -scale U into delta, the
    /// higher +scale U. Then the edge advances: the difference is the next warm-start vector, the phase flips.
    /// </summary>
    private void Exchange(Edge edge, torch.Tensor[] mine, torch.Tensor[] theirs, double scale, torch.Tensor delta)
    {
        bool lo = Id == edge.Lo;
        var next = new torch.Tensor?[_entries.Length];
        for (int e = 0; e < _entries.Length; e++)
        {
            var entry = _entries[e];
            var diff = lo ? mine[e].sub(theirs[e]) : theirs[e].sub(mine[e]);
            torch.Tensor u;
            if (!entry.IsMatrix) u = diff;
            else
            {
                var v = edge.Orthonormal(e, entry, X.dtype);
                u = edge.EvenPhase ? diff.matmul(v.t()) : v.matmul(diff.t());
                next[e] = diff;
            }
            var target = delta.narrow(0, entry.Offset, entry.Count);
            target.AddScaled_(u.reshape(-1), lo ? -scale : scale);
        }
        edge.Advance(next);
    }

    private Edge EdgeWith(int neighbor)
    {
        if (!_edges.TryGetValue(neighbor, out var edge))
            _edges[neighbor] = edge = new Edge(Math.Min(Id, neighbor), Math.Max(Id, neighbor), _entries.Length, _rank, Settings.Seed);
        return edge;
    }

    private static Entry[] Entries(ParameterLayout? layout, long size)
    {
        if (layout is null || layout.Entries.Count == 0)
        {
            // No layout: view the flat vector as the most square matrix it factors into.
            long rows = 1;
            for (long r = 1; r * r <= size; r++)
                if (size % r == 0) rows = r;
            return [new Entry(0, size, rows, size / rows, rows > 1)];
        }
        if (layout.Size != size) throw new ArgumentException($"parameter layout covers {layout.Size} values, the model has {size}");
        return layout.Entries
            .Select(en => en.Shape.Length >= 2 && en.Shape[0] > 1 && en.Count / en.Shape[0] > 1
                ? new Entry(en.Offset, en.Count, en.Shape[0], en.Count / en.Shape[0], true)
                : new Entry(en.Offset, en.Count, en.Count, 1, false))
            .ToArray();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var e in _edges.Values) e.Dispose();
            foreach (var t in _sent.Values.SelectMany(a => a)) t.Dispose();
            foreach (var p in _inbox.Values.SelectMany(d => d.Values)) p.Dispose();
            foreach (var t in _pairSent.Values.SelectMany(a => a.Projections)) t.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed record Entry(long Offset, long Count, long Rows, long Cols, bool IsMatrix);

    private sealed record GossipPayload(long Counter, torch.Tensor[] Projections) : IDisposable
    {
        public void Dispose()
        {
            foreach (var p in Projections) p.Dispose();
        }
    }

    /// <summary>Per-edge warm-start state, identical at both ends: the vector per matrix entry, the phase, the exchange counter.</summary>
    private sealed class Edge(int lo, int hi, int entries, int rank, long seed) : IDisposable
    {
        private readonly torch.Tensor?[] _vectors = new torch.Tensor?[entries];
        private long _phaseStart;

        public int Lo { get; } = lo;
        public int Hi { get; } = hi;
        public long Counter { get; private set; }

        /// <summary>Even exchanges since the last (re)start project with q (M q), odd ones with p (M^T p).</summary>
        public bool EvenPhase => (Counter - _phaseStart) % 2 == 0;

        /// <summary>The warm-start vector orthonormalised (Gram-Schmidt); a fresh seeded one if it is missing or degenerate. Pure: both ends get the same bits.</summary>
        public torch.Tensor Orthonormal(int e, Entry entry, torch.ScalarType dtype)
        {
            long length = EvenPhase ? entry.Cols : entry.Rows;
            int r = (int)Math.Min(rank, Math.Min(entry.Rows, entry.Cols));
            var v = _vectors[e];
            if (v is not null && v.shape[0] == length)
            {
                var q = GramSchmidt(v.to_type(dtype));
                if (q is not null) return q;
            }
            using var gen = Util.TorchSetup.Generator(Seeds.Derive(seed, $"powergossip-edge-{Lo}-{Hi}-{e}", Counter));
            return GramSchmidt(torch.randn(length, r, dtype, generator: gen))
                   ?? throw new InvalidOperationException("a random start vector was degenerate");
        }

        private static torch.Tensor? GramSchmidt(torch.Tensor v)
        {
            var cols = new List<torch.Tensor>();
            for (long c = 0; c < v.shape[1]; c++)
            {
                var col = v.narrow(1, c, 1).clone();
                foreach (var prev in cols) col.sub_(prev.mul(prev.t().matmul(col)));
                double norm = col.norm().ToDouble(); // float32 models too (item<double> throws on a float tensor)
                if (!(norm > 1e-30) || double.IsInfinity(norm)) return null;
                cols.Add(col.div_(norm));
            }
            return torch.cat(cols, 1);
        }

        public void Advance(torch.Tensor?[] next)
        {
            for (int e = 0; e < _vectors.Length; e++)
            {
                _vectors[e]?.Dispose();
                _vectors[e] = next[e]?.detach().clone().DetachFromDisposeScope();
            }
            Counter++;
        }

        public void Reset(long counter)
        {
            for (int e = 0; e < _vectors.Length; e++)
            {
                _vectors[e]?.Dispose();
                _vectors[e] = null;
            }
            Counter = counter;
            _phaseStart = counter;
        }

        public void Dispose()
        {
            foreach (var v in _vectors) v?.Dispose();
        }
    }
}

namespace Actors.Learning.Gossip;

/// <summary>
/// The last few mixing matrices a time-varying topology built, keyed by their epoch. Thread-safe: PeerActors that
/// share one topology object ask for neighbouring steps concurrently.
/// </summary>
internal sealed class MixingMatrixCache(int capacity = 8)
{
    private readonly object _gate = new();
    private readonly LinkedList<(long Key, MixingMatrix Matrix)> _entries = new();

    public MixingMatrix GetOrAdd(long key, Func<long, MixingMatrix> build)
    {
        lock (_gate)
        {
            for (var node = _entries.First; node is not null; node = node.Next)
                if (node.Value.Key == key)
                {
                    _entries.Remove(node);
                    _entries.AddFirst(node);
                    return node.Value.Matrix;
                }
        }
        var matrix = build(key);
        lock (_gate)
        {
            _entries.AddFirst((key, matrix));
            while (_entries.Count > capacity) _entries.RemoveLast();
        }
        return matrix;
    }
}
